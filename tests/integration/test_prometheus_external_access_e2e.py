"""End to end on loopback: real nginx configured the way ingress-nginx renders the built
Ingress, in front of a real Prometheus that requires a client certificate, and a second
real Prometheus that federates through it with the built scrape job.

nginx gets exactly what the builders produced: the ``auth`` value decoded from the built
Secret, the allowlist, the configuration-snippet (client certificate) and one location
per Ingress path, as ingress-nginx renders ``Exact`` (``location =``) and ``Prefix``
(``location = /p`` plus ``location /p/``) paths; anything else goes to the default
backend (404). The Ingress host is not resolvable here, so clients connect to
127.0.0.1 and send the host as SNI and Host header.
"""

import base64
import datetime
import http.client
import ipaddress
import json
import os
import socket
import ssl
import sys
import time
import urllib.parse
import urllib.request

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import htpasswd_users
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import prometheus_external_access as pea
from tests.integration import services
from tests.integration.test_prometheus_external_access_role import BIN, run

HOST = "prometheus.e2e.example.com"
PASSWORD = "e2e-Generated-Password-0123456789"
FEDERATE_PASSWORD = "e2e-Federation-Password-9876543210"
OUTSIDE_ADDRESS = "127.0.0.2"  # loopback, but outside the allowlist 127.0.0.1/32


# --- a throw-away CA ------------------------------------------------------------------

def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path


class CA:
    def __init__(self, directory):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name("e2e CA")).issuer_name(_name("e2e CA"))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(minutes=5))
                     .not_valid_after(now + datetime.timedelta(hours=2))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.cert_file = _write(os.path.join(directory, "ca.crt"), self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name, dns=(), ips=(), client=False):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(hours=2))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client
                                                         else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        cert_file = _write(os.path.join(self.directory, name + ".crt"), cert.public_bytes(serialization.Encoding.PEM))
        key_file = _write(os.path.join(self.directory, name + ".key"), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return cert_file, key_file


# --- nginx the way ingress-nginx renders the Ingress -------------------------------------

def _location_blocks(ingress, body):
    blocks = []
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        value, path_type = path["path"], path["pathType"]
        if path_type == "Exact":
            blocks.append("location = {0} {{\n{1}\n}}".format(value, body))
        elif value == "/":
            blocks.append("location / {{\n{0}\n}}".format(body))
        else:
            blocks.append("location = {0} {{\n{1}\n}}".format(value, body))
            blocks.append("location {0}/ {{\n{1}\n}}".format(value.rstrip("/"), body))
    if not any(p["path"] == "/" for p in ingress["spec"]["rules"][0]["http"]["paths"]):
        blocks.append("location / { return 404; }  # the controller's default backend")
    return "\n".join(blocks)


def nginx_server(ingress, auth_file, port, backend_port, tls_cert, tls_key):
    annotations = ingress["metadata"]["annotations"]
    prefix = pea.ANNOTATION
    access = ""
    if prefix + "allowlist-source-range" in annotations:
        access = "".join("allow {0};\n".format(c) for c in annotations[prefix + "allowlist-source-range"].split(","))
        access += "deny all;\n"
    assert annotations[prefix + "auth-type"] == "basic"
    scheme = "https" if annotations[prefix + "backend-protocol"] == "HTTPS" else "http"
    body = (
        access
        + 'auth_basic "{0}";\n'.format(annotations[prefix + "auth-realm"])
        + "auth_basic_user_file {0};\n".format(auth_file)
        + "proxy_set_header Host $host;\n"
        + "proxy_pass {0}://127.0.0.1:{1};\n".format(scheme, backend_port)
        + annotations.get(prefix + "configuration-snippet", "")
    )
    return """
server {{
  listen 127.0.0.1:{port} ssl;
  server_name {host};
  ssl_certificate {cert};
  ssl_certificate_key {key};
{locations}
}}
""".format(port=port, host=ingress["spec"]["tls"][0]["hosts"][0], cert=tls_cert, key=tls_key,
           locations=_location_blocks(ingress, body))


def start_ingress(workdir, ingress, auth_secret, backend_port, tls_cert, tls_key, ca_file):
    os.makedirs(workdir, exist_ok=True)
    auth_file = _write(os.path.join(workdir, "auth"), base64.b64decode(auth_secret["data"]["auth"]))
    port = services.free_port()
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False  # readiness only; the requests below check the host name
    return services.start_nginx(workdir, nginx_server(ingress, auth_file, port, backend_port, tls_cert, tls_key),
                                port, ssl_context=context), port


# --- HTTP through the ingress ---------------------------------------------------------------

def request(port, path, ca_file, user=None, password=None, method="GET", source=None):
    context = ssl.create_default_context(cafile=ca_file)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                    source_address=(source, 0) if source else None)
    conn = http.client.HTTPSConnection(HOST, port, context=context, timeout=10)
    conn.sock = context.wrap_socket(sock, server_hostname=HOST)
    headers = {"Host": HOST}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(
            "{0}:{1}".format(user, password).encode()).decode()
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for(check, timeout=30.0, interval=0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("condition not met within {0}s (last: {1!r})".format(timeout, last))


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    services.binary("nginx")
    services.binary("prometheus")
    base = str(tmp_path_factory.mktemp("pea-e2e"))
    ca = CA(base)
    server_cert, server_key = ca.issue("prometheus-backend", dns=["prometheus.d8-monitoring"], ips=["127.0.0.1"])
    client_cert, client_key = ca.issue("ingress-client", client=True)
    ingress_cert, ingress_key = ca.issue("ingress", dns=[HOST], ips=["127.0.0.1"])

    prometheus_port = services.free_port()
    backend_context = ssl.create_default_context(cafile=ca.cert_file)
    backend_context.check_hostname = False
    backend_context.load_cert_chain(client_cert, client_key)
    tls_scrape = {"ca_file": ca.cert_file, "cert_file": client_cert, "key_file": client_key,
                  "insecure_skip_verify": True}
    backend = services.start_prometheus(
        os.path.join(base, "backend"),
        {"global": {"scrape_interval": "1s"},
         "scrape_configs": [{"job_name": "self", "scheme": "https", "tls_config": tls_scrape,
                             "static_configs": [{"targets": ["127.0.0.1:{0}".format(prometheus_port)]}]}]},
        extra_args=["--web.enable-admin-api", "--web.enable-lifecycle"],
        web_config={"tls_server_config": {"cert_file": server_cert, "key_file": server_key,
                                          "client_auth_type": "RequireAndVerifyClientCert",
                                          "client_ca_file": ca.cert_file}},
        port=prometheus_port, scheme="https", ssl_context=backend_context)
    started = [backend]
    try:
        auth = htpasswd_users.build(dict(
            name="prometheus-external-basic-auth", namespace="d8-monitoring",
            users=[{"username": "grafana", "password": PASSWORD},
                   # generated: hashed with the fast scheme (apr1), which nginx must verify too
                   {"username": "federate", "password": FEDERATE_PASSWORD, "generated": True}],
            scheme="bcrypt", cost=None, format="auth-file", min_password_length=16, current_secret=None,
            current_secret_file=None, current_content=None, component="prometheus_external_access",
            variable_name="users"))
        params = dict((name, spec.get("default")) for name, spec in pea.ARGUMENT_SPEC.items())
        params.update(platform="deckhouse", host=HOST, allowlist=["127.0.0.1/32"],
                      controller_client_cert_path=client_cert, controller_client_key_path=client_key,
                      federation_username="federate", federation_ca_file=ca.cert_file,
                      federation_password_file=_write(os.path.join(base, "federate.password"),
                                                      FEDERATE_PASSWORD.encode()),
                      federation_match=['{job="self"}'], federation_scrape_interval="1s",
                      federation_labels={"cluster": "e2e"})
        built = pea.build(params)
        ingress = [m for m in built["manifests"] if m["kind"] == "Ingress"][0]
        nginx, port = start_ingress(os.path.join(base, "ingress"), ingress, auth["secret"], prometheus_port,
                                    ingress_cert, ingress_key, ca.cert_file)
        started.append(nginx)
        yield {"base": base, "ca": ca, "port": port, "built": built, "auth": auth, "backend": backend,
               "prometheus_port": prometheus_port, "ingress_cert": ingress_cert, "ingress_key": ingress_key,
               "params": params, "started": started}
    finally:
        for service in reversed(started):
            service.stop()


def query_up(stack, user="grafana", password=PASSWORD, source=None):
    return request(stack["port"], "/api/v1/query?query=" + urllib.parse.quote('up{job="self"}'),
                   stack["ca"].cert_file, user, password, source=source)


# --- tests -------------------------------------------------------------------------------------

def test_backend_refuses_a_client_without_certificate(stack):
    context = ssl.create_default_context(cafile=stack["ca"].cert_file)
    context.check_hostname = False
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        conn = http.client.HTTPSConnection("127.0.0.1", stack["prometheus_port"], context=context, timeout=5)
        conn.request("GET", "/api/v1/query?query=up")
        conn.getresponse().read()


def test_no_or_wrong_credentials_get_401(stack):
    assert query_up(stack, user=None)[0] == 401
    assert query_up(stack, password="wrong-password-but-long-enough")[0] == 401
    assert query_up(stack, user="nobody")[0] == 401


def test_right_password_gets_a_real_promql_answer(stack):
    def answered():
        status, body = query_up(stack)
        assert status == 200, body
        result = json.loads(body)["data"]["result"]
        return result if result and result[0]["value"][1] == "1" else None
    result = wait_for(answered)
    assert result[0]["metric"]["job"] == "self"


def test_source_outside_the_allowlist_gets_403(stack):
    assert query_up(stack, source=OUTSIDE_ADDRESS)[0] == 403
    assert query_up(stack, source="127.0.0.1")[0] == 200


def test_read_only_routes_federate_but_not_admin_or_lifecycle(stack):
    auth = base64.b64decode(stack["auth"]["secret"]["data"]["auth"]).decode()
    assert "\ngrafana:$2y$" in "\n" + auth and "\nfederate:$apr1$" in auth  # chosen: bcrypt, generated: apr1
    status, body = request(stack["port"], "/federate?match[]=" + urllib.parse.quote('{job="self"}'),
                           stack["ca"].cert_file, "federate", FEDERATE_PASSWORD)
    assert status == 200 and b'job="self"' in body
    snapshots = os.path.join(stack["base"], "backend", "data", "snapshots")
    assert request(stack["port"], "/api/v1/admin/tsdb/snapshot", stack["ca"].cert_file, "grafana", PASSWORD,
                   method="POST")[0] == 404
    assert request(stack["port"], "/-/reload", stack["ca"].cert_file, "grafana", PASSWORD, method="POST")[0] == 404
    assert request(stack["port"], "/api/v1/write", stack["ca"].cert_file, "grafana", PASSWORD, method="POST")[0] == 404
    assert request(stack["port"], "/graph", stack["ca"].cert_file, "grafana", PASSWORD)[0] == 404
    assert not os.path.isdir(snapshots) or not os.listdir(snapshots)
    # label values go through the Prefix path
    status, body = request(stack["port"], "/api/v1/label/job/values", stack["ca"].cert_file, "grafana", PASSWORD)
    assert status == 200 and "self" in json.loads(body)["data"]


def test_without_read_only_the_admin_api_is_reachable(stack):
    """The control case: the vendor's single `/` path lets the same credentials snapshot the TSDB."""
    params = dict(stack["params"], read_only=False)
    ingress = [m for m in pea.build(params)["manifests"] if m["kind"] == "Ingress"][0]
    nginx, port = start_ingress(os.path.join(stack["base"], "ingress-open"), ingress, stack["auth"]["secret"],
                                stack["prometheus_port"], stack["ingress_cert"], stack["ingress_key"],
                                stack["ca"].cert_file)
    try:
        status, body = request(port, "/api/v1/admin/tsdb/snapshot", stack["ca"].cert_file, "grafana", PASSWORD,
                               method="POST")
        assert status == 200 and json.loads(body)["status"] == "success"
    finally:
        nginx.stop()


def test_a_second_prometheus_federates_through_the_ingress(stack):
    job = json.loads(json.dumps(stack["built"]["federation_job"]))
    assert job["static_configs"][0]["targets"] == ["{0}:443".format(HOST)]
    # The only change: the host name does not resolve here, so point the target at the loopback port.
    job["static_configs"][0]["targets"] = ["127.0.0.1:{0}".format(stack["port"])]
    federating = services.start_prometheus(os.path.join(stack["base"], "federating"),
                                           {"global": {"scrape_interval": "1s"}, "scrape_configs": [job]})
    stack["started"].append(federating)

    def federated():
        url = federating.url + "/api/v1/query?query=" + urllib.parse.quote('up{job="self",cluster="e2e"}')
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())["data"]["result"]
    result = wait_for(federated)
    assert result[0]["metric"]["job"] == "self"  # honor_labels kept the backend's job label

    def target_up():
        with urllib.request.urlopen(federating.url + "/api/v1/targets", timeout=5) as response:
            targets = json.loads(response.read())["data"]["activeTargets"]
        return targets if targets and targets[0]["health"] == "up" else None
    assert wait_for(target_up)[0]["labels"]["job"] == job["job_name"]


def test_role_probe_sees_401_and_200_through_the_real_ingress(stack, tmp_path):
    """The role's probe tasks against the real nginx: passes with the right password, fails with a wrong one."""
    url = "https://127.0.0.1:{0}/api/v1/query?query=up".format(stack["port"])

    def probe(password):
        return {"ansible.builtin.include_role": {"name": "k8s_monitoring.prometheus.prometheus_external_access",
                                                 "tasks_from": "probe"},
                "vars": {"prometheus_external_access_build": {"settings": {"host": HOST}},
                         "prometheus_external_access__users": [{"username": "grafana", "password": password}],
                         "prometheus_external_access_probe_url": url,
                         "prometheus_external_access_probe_ca_path": stack["ca"].cert_file}}
    wrong = "Wrong-Probe-Password-0123456789"
    play = [{"name": "Probe", "hosts": "localhost", "gather_facts": False, "tasks": [
        dict(probe(PASSWORD), name="Probe with the right password"),
        {"name": "Probe with a wrong password", "block": [dict(probe(wrong), name="Probe (wrong)")],
         "rescue": [{"name": "Expected failure", "ansible.builtin.debug": {"msg": "PROBE FAILED AS EXPECTED"}}]},
    ]}]
    (tmp_path / "probe.yml").write_text(yaml.safe_dump(play))
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(tmp_path / "probe.yml"),
                  "-e", "ansible_python_interpreter=" + sys.executable, "-vvv"])
    assert result.returncode == 0, result.stdout
    assert "without_credentials: 401" in result.stdout and "with_credentials: 200" in result.stdout
    assert "PROBE FAILED AS EXPECTED" in result.stdout
    assert "answered 401 without credentials (expected 401) and 401 with them (expected 200)" in result.stdout
    assert PASSWORD not in result.stdout and wrong not in result.stdout
