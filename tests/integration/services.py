"""Real services for integration tests, started on 127.0.0.1 and stopped by PID.

The binaries come from Debian (prometheus, prometheus-pushgateway, nginx);
`make test` installs them. Run by hand without them, the tests skip and say
which package is missing; with ``K8S_MONITORING_REQUIRE_SERVICES=1`` (set by
`make test`) a missing binary is a failure instead, so CI can never pass by skipping.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

BINARIES = {
    "prometheus": ("prometheus", "prometheus"),
    "pushgateway": ("prometheus-pushgateway", "prometheus-pushgateway"),
    "nginx": ("nginx", "nginx"),
    "htpasswd": ("htpasswd", "apache2-utils"),
    "promtool": ("promtool", "prometheus"),
}


def binary(name):
    executable, package = BINARIES[name]
    path = shutil.which(executable) or shutil.which(executable, path="/usr/sbin:/usr/bin")
    if path:
        return path
    message = "{0} not installed (Debian package {1}; `make test` installs it)".format(executable, package)
    if os.environ.get("K8S_MONITORING_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """A process on loopback; ``stop()`` sends SIGTERM, then SIGKILL after 10 s."""

    def __init__(self, name, args, workdir, url, ready_path="/-/ready", ssl_context=None):
        self.name = name
        self.url = url
        self.log_path = os.path.join(workdir, name + ".log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._ready_path = ready_path
        self._ssl_context = ssl_context

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        with open(self.log_path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("{0} exited with {1}:\n{2}".format(self.name, self.process.returncode, self.log()))
            try:
                urllib.request.urlopen(self.url + self._ready_path, timeout=2, context=self._ssl_context)
                return self
            except urllib.error.HTTPError as err:
                if err.code < 500:
                    return self  # answering; auth or path is the caller's business
                last = err
            except (urllib.error.URLError, OSError) as err:
                last = err
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("{0} not ready after {1}s ({2}):\n{3}".format(self.name, timeout, last, self.log()))

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_prometheus(workdir, config, extra_args=(), web_config=None, port=None, scheme="http",
                     ssl_context=None):
    """A real Prometheus with ``config`` (a dict) as its prometheus.yml."""
    port = port or free_port()
    os.makedirs(workdir, exist_ok=True)
    config_path = os.path.join(workdir, "prometheus.yml")
    with open(config_path, "w") as handle:
        yaml.safe_dump(config, handle)
    args = [binary("prometheus"), "--config.file=" + config_path,
            "--storage.tsdb.path=" + os.path.join(workdir, "data"),
            "--web.listen-address=127.0.0.1:{0}".format(port)]
    if web_config is not None:
        web_path = os.path.join(workdir, "web.yml")
        with open(web_path, "w") as handle:
            yaml.safe_dump(web_config, handle)
        args.append("--web.config.file=" + web_path)
    args.extend(extra_args)
    url = "{0}://127.0.0.1:{1}".format(scheme, port)
    return Service("prometheus-{0}".format(port), args, workdir, url, ssl_context=ssl_context).wait_ready()


def start_pushgateway(workdir, extra_args=(), port=None, web_config=None, scheme="http", ssl_context=None):
    port = port or free_port()
    os.makedirs(workdir, exist_ok=True)
    # Debian's default --persistence.file is shared by every Pushgateway on the machine.
    args = [binary("pushgateway"), "--web.listen-address=127.0.0.1:{0}".format(port),
            "--persistence.file=" + os.path.join(workdir, "pushgateway.data")]
    if web_config is not None:
        web_path = os.path.join(workdir, "pushgateway-web.yml")
        with open(web_path, "w") as handle:
            yaml.safe_dump(web_config, handle)
        args.append("--web.config.file=" + web_path)
    args.extend(extra_args)
    url = "{0}://127.0.0.1:{1}".format(scheme, port)
    return Service("pushgateway-{0}".format(port), args, workdir, url, ssl_context=ssl_context).wait_ready()


def start_nginx(workdir, server_blocks, port_for_ready, scheme="https", ssl_context=None, ready_path="/"):
    """A real nginx running ``server_blocks`` (text of one or more ``server {}``) as a non-daemon."""
    os.makedirs(workdir, exist_ok=True)
    # Workers would drop to www-data and could not read pytest's 0700 temp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = """
{user}
worker_processes 1;
daemon off;
pid {wd}/nginx.pid;
error_log {wd}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
  access_log {wd}/nginx-access.log;
  client_body_temp_path {wd}/client_body;
  proxy_temp_path {wd}/proxy;
  fastcgi_temp_path {wd}/fastcgi;
  uwsgi_temp_path {wd}/uwsgi;
  scgi_temp_path {wd}/scgi;
{servers}
}}
""".format(user=user, wd=workdir, servers=server_blocks)
    conf_path = os.path.join(workdir, "nginx.conf")
    with open(conf_path, "w") as handle:
        handle.write(conf)
    args = [binary("nginx"), "-c", conf_path, "-p", workdir, "-e", os.path.join(workdir, "nginx-error.log")]
    url = "{0}://127.0.0.1:{1}".format(scheme, port_for_ready)
    return Service("nginx-{0}".format(port_for_ready), args, workdir, url, ready_path=ready_path,
                   ssl_context=ssl_context).wait_ready()


def insecure_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
