"""Secrets never leak: every role and every module that takes a secret, run with known
passwords, tokens and a private key, at -vvv with --diff, in render mode, in check mode,
and through ansible-runner. Scanned: stdout, the runner's job events and artifacts,
rendered and outside files, and registered results (written out with to_json).

A secret counts as leaked when it appears as written or base64-encoded (Secret data);
for the private key, any line of its PEM body. htpasswd hashes may appear in rendered
Secret files (mode 0600) and in registered results, never in stdout or diffs.
The push and query modules talk to a real Pushgateway (mutual TLS + basic auth) and a
real Prometheus (basic auth), so the secrets are actually used on the wire.
"""

import base64
import json
import re
import shutil
import ssl

import ansible_runner
import pytest
import yaml
from passlib.hash import bcrypt

from tests import figures
from tests.integration.services import start_prometheus, start_pushgateway
from tests.integration.test_bad_input_corpus import ConnectionCounter
from tests.integration.tls import TestCA, write_pair
from tests.playbook import REPO, ansible_env, run_playbook

PASSWORD = "leak-probe-pw-3f9c1a7e5b2d"
TOKEN = "leak-probe-token-8d2e6b4a1c0f"
HASH_PATTERNS = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}|\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}"
                           r"|\$6\$(rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}")
PASSWORD_HASH = bcrypt.using(rounds=4, ident="2y").hash(PASSWORD)


class Scanner:
    """Counts runs and bytes scanned and collects leaks over the whole file."""

    def __init__(self):
        self.runs = 0
        self.bytes = 0
        self.leaks = []
        self.secrets = []

    def arm(self, key_pem):
        body = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
        secrets = [("password", PASSWORD), ("token", TOKEN)] + [("private key line", line) for line in body]
        for name, value in [("password", PASSWORD), ("token", TOKEN), ("private key", key_pem)]:
            secrets.append((name + " (base64)", base64.b64encode(value.encode()).decode()[:40]))
        self.secrets = secrets

    def scan(self, where, text, hashes_allowed=False):
        self.bytes += len(text.encode("utf-8", "replace"))
        found = ["{0} in {1}".format(name, where) for name, value in self.secrets if value in text]
        if not hashes_allowed:
            hashes = [m.group(0) for m in HASH_PATTERNS.finditer(text)]
            found += ["password hash {0}... in {1}".format(h[:12], where) for h in hashes]
        self.leaks.extend(found)
        return found

    def scan_tree(self, where, root, hashes_allowed=True):
        """Scan every file under ``root``; a file holding a hash (decoded Secret data included) must be 0600."""
        found = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = "{0}/{1}".format(where, path.relative_to(root))
            found += self.scan(name, path.read_text(errors="replace"), hashes_allowed)
            hashes = [m.group(0) for m in HASH_PATTERNS.finditer(secret_text(path))]
            if hashes:
                if not hashes_allowed:
                    found.append("password hash in {0}".format(name))
                    self.leaks.append(found[-1])
                assert path.stat().st_mode & 0o077 == 0, "{0} holds a hash but is readable by others".format(path)
        return found


SCANNER = Scanner()


def test_the_scanner_finds_planted_secrets():
    """The scan can fail: each kind of secret, planted, is found (on a scanner of its own)."""
    key = TestCA().issue("planted")[1]
    scanner = Scanner()
    scanner.arm(key)
    planted = [PASSWORD, "Bearer " + TOKEN, json.dumps({"key": key}), base64.b64encode(PASSWORD.encode()).decode(),
               "data: " + base64.b64encode(key.encode()).decode(), key.splitlines()[2],
               "auth: " + bcrypt.using(rounds=4).hash("other")]
    for text in planted:
        assert scanner.scan("planted", text), text
    assert not scanner.scan("clean", "password: <hidden>, token: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")


@pytest.fixture(scope="module")
def key_material(tmp_path_factory):
    """A CA, a server pair and a client pair; the scanner looks for every private key line."""
    directory = tmp_path_factory.mktemp("tls")
    ca = TestCA()
    (directory / "ca.crt").write_text(ca.cert_pem)
    server = ca.issue("prometheus.kps-staging.example.com", dns_names=["prometheus.kps-staging.example.com"])
    client = ca.issue("pusher", ip_addresses=(), client=True)
    keys = server[1] + client[1]
    SCANNER.arm(keys)
    return {"dir": directory, "ca": str(directory / "ca.crt"), "server": write_pair(directory, "server", server),
            "client": write_pair(directory, "client", client), "keys": keys}


def site_extra_vars(tmp_path, key_material, mode="render"):
    out = tmp_path / "out"
    return {
        "k8s_monitoring_mode": mode,
        "k8s_monitoring_render_dir": str(out) + "/{{ inventory_hostname }}",
        "prometheus_external_access_users": [{"username": "grafana", "password": PASSWORD}],
        "prometheus_external_access_tls_cert_file": key_material["server"][0],
        "prometheus_external_access_tls_key_file": key_material["server"][1],
        "prometheus_external_access_grafana_api_key": TOKEN,
        "prometheus_external_access_password_dir": str(tmp_path / "credentials" / "{{ inventory_hostname }}"),
        "prometheus_external_access_grafana_datasource_file": str(tmp_path / "outside" / "{{ inventory_hostname }}"
                                                                  / "grafana.yaml"),
        "prometheus_external_access_federation_file": str(tmp_path / "outside" / "{{ inventory_hostname }}"
                                                          / "federation.yaml"),
    }


def inventory_copy(tmp_path):
    """The example inventory without host_vars (their kubeconfig paths do not exist here)."""
    target = tmp_path / "inventory"
    shutil.copytree(REPO / "inventory" / "example", target, ignore=shutil.ignore_patterns("host_vars"))
    # Not the Gateway API cluster: the chosen password and TLS files below are what its flavour refuses
    # (test_prometheus_external_access_role.py scans its generated passwords at -vvv --diff).
    hosts = yaml.safe_load((target / "hosts.yml").read_text())
    del hosts["k8s_clusters"]["children"]["platform_gateway_api"]
    (target / "hosts.yml").write_text(yaml.safe_dump(hosts))
    # kube-prometheus-stack's Pushgateway gets basic auth with the probe password's hash.
    pushgateway_vars = target / "group_vars" / "platform_kube_prometheus_stack" / "pushgateway.yml"
    values = yaml.safe_load(pushgateway_vars.read_text())
    values["pushgateway_basic_auth_users"] = [{"username": "pusher", "password_hash": PASSWORD_HASH}]
    assert values.get("pushgateway_scrape_basic_auth_secret")
    pushgateway_vars.write_text(yaml.safe_dump(values))
    return target


def k8s_env(tmp_path, counter):
    (tmp_path / "home").mkdir(exist_ok=True)
    return {"K8S_AUTH_HOST": "https://127.0.0.1:{0}".format(counter.port), "K8S_AUTH_API_KEY": TOKEN,
            "HOME": str(tmp_path / "home")}


def run_scanned(name, playbook, *args, expect_ok=True, **kwargs):
    result = run_playbook(playbook, *args, check=False, **kwargs)
    SCANNER.runs += 1
    assert (result.returncode == 0) == expect_ok, result.stdout[-4000:]
    assert not SCANNER.scan(name + " stdout", result.stdout), SCANNER.leaks
    return result.stdout


def test_site_in_render_mode_at_vvv_with_diff(tmp_path, key_material):
    counter = ConnectionCounter()
    try:
        output = run_scanned("site render", REPO / "site.yml", "-i", str(inventory_copy(tmp_path)), "-vvv", "--diff",
                             extra_vars=site_extra_vars(tmp_path, key_material), env=k8s_env(tmp_path, counter),
                             timeout=600)
    finally:
        counter.close()
    assert counter.count == 0
    assert "render mode does not write private keys" in output  # the TLS Secret became a kubectl hint
    assert not SCANNER.scan_tree("rendered", tmp_path / "out")
    assert not SCANNER.scan_tree("outside", tmp_path / "outside", hashes_allowed=False)
    # The password was used: a rendered basic-auth Secret holds a hash of it.
    hashes = [m.group(0) for p in (tmp_path / "out").rglob("*secret*") for m in HASH_PATTERNS.finditer(
        secret_text(p))]
    assert any(bcrypt.verify(PASSWORD, h) for h in hashes if h.startswith("$2")), hashes


def secret_text(path):
    """A file's text plus, for a YAML Secret, its decoded data (hashes live there base64-encoded)."""
    text = path.read_text(errors="replace")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(doc, dict) or doc.get("kind") != "Secret":
        return text
    decoded = [base64.b64decode(v).decode("utf-8", "replace") for v in (doc.get("data") or {}).values()]
    return "\n".join([text] + decoded + [str(v) for v in (doc.get("stringData") or {}).values()])


@pytest.mark.parametrize("mode", ["render", "apply"])
def test_site_in_check_mode_at_vvv_with_diff(mode, tmp_path, key_material):
    """Check mode with --diff: what would change is shown, but never a secret or a hash.

    In apply mode the Kubernetes API is a loopback listener that accepts and closes
    connections, so the run fails at the first API call -- after the roles have
    validated and built everything, and with the bearer token in the environment.
    """
    counter = ConnectionCounter()
    try:
        output = run_scanned("site {0} --check".format(mode), REPO / "site.yml", "-i", str(inventory_copy(tmp_path)),
                             "-vvv", "--diff", "--check", extra_vars=site_extra_vars(tmp_path, key_material, mode=mode),
                             env=k8s_env(tmp_path, counter), expect_ok=(mode == "render"), timeout=600)
    finally:
        counter.close()
    if mode == "apply":  # the run got as far as the API, with the token in its environment
        assert counter.count > 0 and "Kubernetes API" in output
    if (tmp_path / "out").exists():
        assert not SCANNER.scan_tree("rendered (check)", tmp_path / "out")


def write_results_task(path):
    return {"name": "Write the registered results", "ansible.builtin.copy": {
        "content": "{{ results | to_json }}", "dest": str(path), "mode": "0600"}, "diff": False,
        "vars": {"results": "{{ {'auth': auth | default(None), 'push': push | default(None), "
                            "'check': check | default(None), 'bearer': bearer | default(None), "
                            "'delete': delete | default(None), 'query': query_ok | default(None), "
                            "'query_bearer': query_bearer | default(None), 'query_wrong': query_wrong | default(None),"
                            " 'push_wrong': push_wrong | default(None)} }}"}}


def play(tasks):
    return [{"name": "Secret-leak probe", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": tasks}]


def test_htpasswd_secret_module_at_vvv_with_diff(tmp_path, key_material):
    module = "k8s_monitoring.prometheus.htpasswd_secret"
    users = [{"username": "grafana", "password": "{{ probe_password }}"},
             {"username": "reader", "password": "x{{ probe_password }}"}]
    tasks = [{"name": "htpasswd {0}".format(scheme),
              module: {"name": "basic-auth", "namespace": "monitoring", "users": users, "scheme": scheme,
                       "format": fmt},
              "register": "auth_{0}".format(scheme)}
             for scheme, fmt in (("bcrypt", "auth-file"), ("apr1", "auth-map"), ("sha512", "auth-file"))]
    tasks.append({"name": "Write the registered results", "ansible.builtin.copy": {
        "content": "{{ [auth_bcrypt, auth_apr1, auth_sha512] | to_json }}", "dest": str(tmp_path / "results.json"),
        "mode": "0600"}, "diff": False})
    playbook = tmp_path / "htpasswd.yml"
    playbook.write_text(yaml.safe_dump(play(tasks), sort_keys=False))
    run_scanned("htpasswd_secret", playbook, "-vvv", "--diff", env={"HOME": str(tmp_path)},
                extra_vars={"probe_password": PASSWORD})
    results = (tmp_path / "results.json").read_text()
    assert not SCANNER.scan("htpasswd_secret results", results, hashes_allowed=True)
    SCANNER.runs += 1
    # The hashes in the registered results verify the password: it was used, just never shown.
    secrets = [m for r in json.loads(results) for m in r["manifests"] if m["kind"] == "Secret"]
    assert secrets, results[:2000]
    decoded = "\n".join(base64.b64decode(v).decode() for s in secrets for v in s["data"].values())
    hashes = [m.group(0) for m in HASH_PATTERNS.finditer(decoded)]
    assert len(hashes) == 6, decoded  # two users, three schemes
    assert any(bcrypt.verify(PASSWORD, h) for h in hashes if h.startswith("$2"))


@pytest.fixture(scope="module")
def services(tmp_path_factory, key_material):
    """A Pushgateway requiring a client certificate and basic auth; a Prometheus requiring basic auth."""
    directory = tmp_path_factory.mktemp("services")
    ca = TestCA()
    (directory / "ca.crt").write_text(ca.cert_pem)
    server_cert, server_key = write_pair(directory, "pg", ca.issue("pushgateway", dns_names=["localhost"]))
    client_cert, client_key = write_pair(directory, "client", ca.issue("pusher", ip_addresses=(), client=True))
    SCANNER.arm(key_material["keys"] + (directory / "client.key").read_text())
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    context.load_cert_chain(client_cert, client_key)
    gateway = start_pushgateway(str(directory / "pg-run"), scheme="https", ssl_context=context, web_config={
        "tls_server_config": {"cert_file": server_cert, "key_file": server_key,
                              "client_ca_file": str(directory / "ca.crt"),
                              "client_auth_type": "RequireAndVerifyClientCert"},
        "basic_auth_users": {"pusher": PASSWORD_HASH}})
    try:
        prometheus = start_prometheus(str(directory / "prometheus"), {"global": {"scrape_interval": "15s"}},
                                      web_config={"basic_auth_users": {"reader": PASSWORD_HASH}})
    except Exception:
        gateway.stop()
        raise
    yield {"pushgateway": gateway.url, "prometheus": prometheus.url, "ca": str(directory / "ca.crt"),
           "client_cert": client_cert, "client_key": client_key}
    prometheus.stop()
    gateway.stop()


def test_push_and_query_modules_use_the_secrets_on_the_wire_and_never_show_them(tmp_path, services):
    push = "k8s_monitoring.prometheus.pushgateway_metrics"
    query = "k8s_monitoring.prometheus.prometheus_query"
    tls = {"url": services["pushgateway"], "ca_path": services["ca"], "client_cert": services["client_cert"],
           "client_key": services["client_key"], "retries": 0, "job": "leak_probe"}
    auth = dict(tls, url_username="pusher", url_password="{{ probe_password }}")
    metrics = [{"name": "leak_probe", "value": 1, "labels": {"stage": "a"}}]
    tasks = [
        {"name": "push with basic auth and a client key", push: dict(auth, metrics=metrics), "register": "push"},
        {"name": "check a change with --diff", push: dict(auth, metrics=[dict(metrics[0], value=2)]),
         "check_mode": True, "diff": True, "register": "check"},
        {"name": "push with a wrong password",
         push: dict(auth, url_password="wrong-{{ probe_password }}", metrics=metrics),
         "register": "push_wrong", "ignore_errors": True},
        {"name": "push with a bearer token", push: dict(tls, bearer_token="{{ probe_token }}", metrics=metrics),
         "register": "bearer", "ignore_errors": True},
        {"name": "delete", push: dict(auth, state="absent"), "register": "delete", "diff": True},
        {"name": "query with basic auth", query: {"url": services["prometheus"], "query": "vector(1)",
                                                  "url_username": "reader", "url_password": "{{ probe_password }}",
                                                  "retries": 0},
         "register": "query_ok"},
        {"name": "query with a wrong password", query: {
            "url": services["prometheus"], "query": "vector(1)", "url_username": "reader",
            "url_password": "wrong-{{ probe_password }}", "retries": 0},
         "register": "query_wrong", "ignore_errors": True},
        {"name": "query with a bearer token", query: {"url": services["prometheus"], "query": "vector(1)",
                                                      "bearer_token": "{{ probe_token }}", "retries": 0},
         "register": "query_bearer", "ignore_errors": True},
        write_results_task(tmp_path / "results.json"),
    ]
    # The Kubernetes modules take the token as api_key: their API is a listener that hangs up.
    counter = ConnectionCounter()
    api = {"host": "https://127.0.0.1:{0}".format(counter.port), "api_key": "{{ probe_token }}",
           "validate_certs": False}
    kinds = [{"api_version": "v1", "kind": "Secret"}]
    tasks[-1:-1] = [
        {"name": "preflight with a token",
         "k8s_monitoring.prometheus.cluster_preflight": dict(api, required_apis=kinds),
         "register": "preflight", "ignore_errors": True},
        {"name": "prune with a token", "k8s_monitoring.prometheus.prune_owned": dict(
            api, component="pushgateway", kinds=kinds), "register": "prune", "ignore_errors": True, "diff": True},
    ]
    tasks[-1]["vars"]["results"] = tasks[-1]["vars"]["results"].replace(
        "} }}", ", 'preflight': preflight | default(None), 'prune': prune | default(None)} }}")
    playbook = tmp_path / "wire.yml"
    playbook.write_text(yaml.safe_dump(play(tasks), sort_keys=False))
    try:
        run_scanned("push/query/api", playbook, "-vvv", "--diff", env={"HOME": str(tmp_path)}, timeout=300,
                    extra_vars={"probe_password": PASSWORD, "probe_token": TOKEN})
    finally:
        counter.close()
    assert counter.count >= 2  # both modules did try the API with the token
    text = (tmp_path / "results.json").read_text()
    SCANNER.runs += 1
    assert not SCANNER.scan("push/query results", text), SCANNER.leaks
    results = json.loads(text)
    # The secrets did their job on the wire; the wrong ones were refused.
    assert results["push"]["changed"] is True and not results["push"].get("failed")
    assert results["check"]["changed"] is True
    assert results["push_wrong"]["failed"] and "401" in results["push_wrong"]["msg"]
    assert results["bearer"]["failed"] and "401" in results["bearer"]["msg"]
    assert results["delete"]["changed"] is True
    assert results["query"]["sample_values"] == ["1"]
    assert results["query_wrong"]["failed"] and results["query_bearer"]["failed"]
    assert results["preflight"]["failed"] and results["prune"]["failed"]


def test_site_through_ansible_runner_at_vvv(tmp_path, key_material):
    root = tmp_path / "pdd"
    (root / "env").mkdir(parents=True)
    extravars = site_extra_vars(tmp_path, key_material)
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    counter = ConnectionCounter()
    env = ansible_env()
    (root / "env" / "envvars").write_text(yaml.safe_dump(dict(
        k8s_env(tmp_path, counter), ANSIBLE_COLLECTIONS_PATH=env["ANSIBLE_COLLECTIONS_PATH"], PATH=env["PATH"])))
    try:
        runner = ansible_runner.run(private_data_dir=str(root), project_dir=str(REPO), playbook="site.yml",
                                    inventory=str(inventory_copy(tmp_path)), quiet=True, verbosity=3, timeout=600)
    finally:
        counter.close()
    SCANNER.runs += 1
    assert runner.status == "successful", runner.stdout.read()[-4000:]
    assert counter.count == 0
    events = "\n".join(json.dumps(event) for event in runner.events)
    assert not SCANNER.scan("runner events", events), SCANNER.leaks
    # artifacts/<id>/command is ansible-runner's record of the command line *and environment* it
    # ran with (AWX injects K8S_AUTH_API_KEY there): it holds the token by design of ansible-runner,
    # not through this collection. Everything else under artifacts is scanned.
    [command] = list((root / "artifacts").glob("*/command"))
    assert TOKEN in command.read_text()
    command.unlink()
    assert not SCANNER.scan_tree("runner artifacts", root / "artifacts", hashes_allowed=False)
    assert not SCANNER.scan_tree("runner rendered", tmp_path / "out")


def test_pushgateway_hashes_stay_out_of_verbose_output(tmp_path):
    output = run_playbook(REPO / "site.yml", "-i", str(inventory_copy(tmp_path)), "--limit", "kps-staging", "--tags",
                          "pushgateway", "-v", extra_vars={"k8s_monitoring_mode": "render",
                                                           "k8s_monitoring_render_dir": str(tmp_path / "out")},
                          env={"HOME": str(tmp_path)}).stdout
    assert "ok: [kps-staging]" in output
    assert PASSWORD_HASH not in output


def test_figures():
    """Runs last in this file: the totals over every scan above."""
    if SCANNER.runs == 0:
        pytest.skip("the figures need the scans above in the same session (run the whole file)")
    figures.record("secret-leak scan: {0} runs scanned, {1} bytes scanned, {2} leaks found".format(
        SCANNER.runs, SCANNER.bytes, len(SCANNER.leaks)))
    assert SCANNER.runs >= 6 and SCANNER.bytes > 0
    assert not SCANNER.leaks, SCANNER.leaks
