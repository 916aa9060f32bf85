"""prometheus_query's wait_timeout as the limit of the whole wait, against a real slow HTTP endpoint.

A tiny http.server on 127.0.0.1 stands in for a Prometheus whose query is heavy: it
sleeps before it answers (or answers 503 at once). Timings are asserted with
generous margins; the number of requests the endpoint saw is exact.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import prometheus_query

EMPTY = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()


class SlowPrometheus:
    """Answers every POST after ``delay`` seconds with ``status`` (an empty vector for 200)."""

    def __init__(self, delay, status=200):
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)
                body = EMPTY if status == 200 else b"overloaded"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up first

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:{0}".format(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    servers = []

    def start(delay, status=200):
        servers.append(SlowPrometheus(delay, status))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def query(**args):
    params = dict((k, v.get("default")) for k, v in prometheus_query.ARGUMENT_SPEC.items())
    params.update(args)
    started = time.monotonic()
    try:
        return prometheus_query.run(params), None, time.monotonic() - started
    except prometheus_query.QueryError as err:
        return None, err, time.monotonic() - started


def test_a_query_slower_than_wait_timeout_is_cut_at_the_deadline_and_not_retried(endpoint):
    slow = endpoint(delay=6)
    # timeout 10 s and 3 retries allowed: before the fix this took over 40 s and four queries.
    _result, err, elapsed = query(url=slow.url, query="heavy", wait=True, wait_timeout=1.5, timeout=10, retries=3,
                                  retry_delay=0.1)
    assert err is not None and "within 1.5 s (1 polls)" in str(err) and "timed out" in str(err)
    assert 1.4 <= elapsed < 4.0
    assert slow.requests == 1


def test_retries_of_a_failing_prometheus_stop_at_the_deadline(endpoint):
    failing = endpoint(delay=0, status=503)
    _result, err, elapsed = query(url=failing.url, query="up", wait=True, wait_timeout=1.0, retries=10,
                                  retry_delay=0.3, retry_max_delay=0.3, wait_interval=0.2)
    assert err is not None and "HTTP 503" in str(err)
    assert 0.9 <= elapsed < 3.0
    assert failing.requests <= 6  # at most one request per 0.2 s in the second


def test_slow_answers_are_polled_until_the_deadline_and_no_longer(endpoint):
    slow = endpoint(delay=0.4)
    _result, err, elapsed = query(url=slow.url, query="absent_metric", wait=True, wait_timeout=2.0, wait_interval=0.1,
                                  timeout=10)
    assert err is not None and "did not return a non-empty result within 2.0 s" in str(err)
    assert 1.9 <= elapsed < 4.0
    assert 3 <= slow.requests <= 5  # 0.4 s each plus 0.1 s between them


def test_without_wait_the_request_timeout_is_the_limit(endpoint):
    slow = endpoint(delay=3)
    _result, err, elapsed = query(url=slow.url, query="heavy", timeout=0.5, retries=0, wait_timeout=0.1)
    assert err is not None and "timed out" in str(err)
    assert 0.4 <= elapsed < 2.5
