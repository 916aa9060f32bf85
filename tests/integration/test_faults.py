"""Faults on loopback: a real Pushgateway and Prometheus behind a small HTTP front
that misbehaves on purpose (500, 503, too slow, connection closed) for the first N
requests, or no server at all. The modules must retry a bounded number of times with
back-off, then fail with one clear message; a retry that succeeds must leave the
group exactly as pushed."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.integration.services import free_port, start_prometheus, start_pushgateway
from tests import figures
from tests.playbook import recap, run_playbook

FAULTS_SURVIVED = []


class FaultyFront:
    """Forwards to ``backend`` except for the first ``count`` requests whose method is
    in ``methods``: those get ``fault`` (500, 503, "slow", "close")."""

    def __init__(self, backend, fault, count, methods=("PUT", "POST", "DELETE"), delay=3.0):
        self.backend, self.fault, self.remaining, self.methods, self.delay = backend, fault, count, methods, delay
        self.seen = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                front.seen.append(self.command)
                if self.command in front.methods and front.remaining > 0:
                    front.remaining -= 1
                    if front.fault == "close":
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if front.fault == "slow":
                        time.sleep(front.delay)
                    else:
                        self.send_response(front.fault)
                        self.send_header("Content-Length", "21")
                        self.end_headers()
                        self.wfile.write(b"injected server fault")
                        return
                request = urllib.request.Request(front.backend + self.path, data=body or None, method=self.command,
                                                 headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                try:
                    response = urllib.request.urlopen(request, timeout=10)
                    status, payload = response.status, response.read()
                except urllib.error.HTTPError as err:
                    status, payload = err.code, err.read()
                except (urllib.error.URLError, OSError):
                    return  # the backend is gone (test tear-down); drop the connection
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (time-out): expected in the "slow" case

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:{0}".format(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def task_playbook(tmp_path, module, args):
    path = tmp_path / "task.yml"
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "tasks": [{"name": "Under test", module: args, "register": "under_test"},
                                               {"name": "Show", "ansible.builtin.debug": {"var": "under_test"}}]}]))
    return path


def run_task(tmp_path, module, args):
    result = run_playbook(task_playbook(tmp_path, module, args), check=False, timeout=300)
    return result, " ".join(result.stdout.split())


@pytest.fixture
def gateway(tmp_path):
    service = start_pushgateway(str(tmp_path / "pgw"))
    yield service
    service.stop()


def group(gateway_url, job):
    data = json.loads(urllib.request.urlopen(gateway_url + "/api/v1/metrics", timeout=10).read())["data"]
    return [g for g in data if g["labels"].get("job") == job]


PUSH = {"job": "faults", "metrics_text": "# TYPE faults_total counter\nfaults_total 7\n# TYPE faults_ok gauge\nfaults_ok 1\n",
        "retries": 3, "retry_delay": 0.2, "retry_max_delay": 1.0, "timeout": 1.5}


@pytest.mark.parametrize("fault", [500, 503, "slow", "close"])
def test_push_survives_transient_faults_without_loss_or_duplication(tmp_path, gateway, fault):
    front = FaultyFront(gateway.url, fault, count=2)
    try:
        result, flat = run_task(tmp_path, "k8s_monitoring.prometheus.pushgateway_metrics", dict(PUSH, url=front.url))
    finally:
        front.close()
    assert result.returncode == 0, result.stdout
    assert recap(result.stdout)["localhost"]["changed"] == 1
    assert front.seen.count("PUT") == 3  # two faults, one success
    pushed = group(gateway.url, "faults")
    assert len(pushed) == 1
    names = sorted(k for k in pushed[0] if k not in ("labels", "last_push_successful", "push_time_seconds",
                                                     "push_failure_time_seconds"))
    assert names == ["faults_ok", "faults_total"]
    assert pushed[0]["faults_total"]["metrics"][0]["value"] == "7"
    assert len(pushed[0]["faults_total"]["metrics"]) == 1
    FAULTS_SURVIVED.append("push {0}".format(fault))


@pytest.mark.parametrize("fault", [503, "close"])
def test_persistent_fault_gives_bounded_retries_then_one_clear_error(tmp_path, gateway, fault):
    front = FaultyFront(gateway.url, fault, count=100)
    started = time.monotonic()
    try:
        result, flat = run_task(tmp_path, "k8s_monitoring.prometheus.pushgateway_metrics", dict(PUSH, url=front.url))
    finally:
        front.close()
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert front.seen.count("PUT") == 1 + PUSH["retries"]
    assert "Traceback" not in result.stdout and "MODULE FAILURE" not in result.stdout
    assert "gave up after 4 attempts" in flat, flat[-600:]
    assert elapsed < 60
    assert group(gateway.url, "faults") == []
    FAULTS_SURVIVED.append("push persistent {0}".format(fault))


def test_stopped_pushgateway_fails_with_one_sentence(tmp_path):
    result, flat = run_task(tmp_path, "k8s_monitoring.prometheus.pushgateway_metrics",
                            dict(PUSH, url="http://127.0.0.1:{0}".format(free_port())))
    assert result.returncode != 0
    assert "refused" in flat.lower() and "Traceback" not in result.stdout
    FAULTS_SURVIVED.append("push to a stopped Pushgateway")


@pytest.fixture
def prometheus(tmp_path):
    service = start_prometheus(str(tmp_path / "prom"), {"global": {"scrape_interval": "1s"}, "scrape_configs": []})
    yield service
    service.stop()


@pytest.mark.parametrize("where", ["down", "slow"])
def test_query_wait_ends_at_its_limit_with_a_clear_message(tmp_path, prometheus, where):
    if where == "down":
        url = "http://127.0.0.1:{0}".format(free_port())
        front = None
    else:
        front = FaultyFront(prometheus.url, "slow", count=1000, methods=("GET", "POST"), delay=2.0)
        url = front.url
    started = time.monotonic()
    try:
        result, flat = run_task(tmp_path, "k8s_monitoring.prometheus.prometheus_query",
                                {"url": url, "query": "up", "wait": True, "wait_timeout": 4, "wait_interval": 0.5,
                                 "timeout": 1, "retries": 1, "retry_delay": 0.2})
    finally:
        if front:
            front.close()
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "Traceback" not in result.stdout and "MODULE FAILURE" not in result.stdout
    assert "did not return a non-empty result within 4.0 s" in flat, flat[-600:]
    assert "last error:" in flat
    assert 4 <= elapsed < 60  # it waited for its limit, and no longer than a bounded time
    FAULTS_SURVIVED.append("query wait with Prometheus {0}".format(where))


def test_zz_print_faults_survived():
    figures.record("faults survived: {0} ({1})".format(len(FAULTS_SURVIVED), ", ".join(FAULTS_SURVIVED)))
    assert len(FAULTS_SURVIVED) >= 9
