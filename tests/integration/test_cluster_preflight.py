"""The preflight's one-sentence failures, against real sockets and a real TLS server.

There is no Kubernetes API server on these machines (no Docker, no kind). Where a
server is needed, nginx plays the part of the API server's *discovery* endpoints
(/version, /api, /apis, /apis/<group>/<version>) with static JSON: enough for
kubernetes.core's client to connect, negotiate TLS, authenticate and discover which
APIs exist, which is all the preflight does. Applying objects is not tested here.
"""

import json
import textwrap

import pytest
import yaml

from tests.integration.services import free_port, start_nginx
from tests.integration.tls import TestCA, write_pair
from tests.playbook import REPO, run_playbook

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Preflight
      k8s_monitoring.prometheus.cluster_preflight:
        kubeconfig: "{{ kubeconfig }}"
        required_apis: "{{ apis }}"
"""

PODMONITOR = {"api_version": "monitoring.coreos.com/v1", "kind": "PodMonitor"}
NETWORKPOLICY = {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"}


def kubeconfig(path, server, ca_pem=None, token="test-token"):
    cluster = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = __import__("base64").b64encode(ca_pem.encode()).decode()
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "t",
              "clusters": [{"name": "t", "cluster": cluster}],
              "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
              "users": [{"name": "t", "user": {"token": token}}]}
    path.write_text(yaml.safe_dump(config))
    return str(path)


def preflight(tmp_path, config_path, apis):
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(PLAYBOOK)
    # A private HOME and TMPDIR keep kubernetes.core's discovery cache per test.
    env = {"HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    return run_playbook(playbook, extra_vars={"kubeconfig": config_path, "apis": apis}, env=env, check=False)


def failure_message(output):
    """The failed task's ``msg``, with the YAML callback's line folding undone."""
    flat = " ".join(output.split())
    assert "msg: " in flat, "no failure message in:\n" + output
    return flat.split("msg: ", 1)[1].split(" PLAY RECAP", 1)[0]


def discovery_documents(groups):
    """Static discovery JSON: core v1 plus ``groups`` {group/version: [(kind, plural, namespaced)]}."""
    documents = {
        "version": {"major": "1", "minor": "33", "gitVersion": "v1.33.0"},
        "api": {"kind": "APIVersions", "versions": ["v1"]},
        "api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret", "verbs": ["get"]}]},
        "apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    }
    for group_version, kinds in groups.items():
        group, version = group_version.split("/")
        documents["apis"]["groups"].append({"name": group, "versions": [{"groupVersion": group_version,
                                                                         "version": version}],
                                            "preferredVersion": {"groupVersion": group_version, "version": version}})
        documents["apis/" + group_version] = {
            "kind": "APIResourceList", "groupVersion": group_version,
            "resources": [{"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                           "verbs": ["get", "list"]} for kind, plural, namespaced in kinds]}
    return documents


@pytest.fixture
def fake_discovery(tmp_path):
    """nginx on TLS serving discovery JSON; answers 401 when the token is not test-token."""
    ca = TestCA()
    cert, key = write_pair(tmp_path, "server", ca.issue("127.0.0.1"))
    root = tmp_path / "www"
    documents = discovery_documents({"networking.k8s.io/v1": [("NetworkPolicy", "networkpolicies", True)]})
    for name, body in documents.items():
        target = root / (name + ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(body))
    port = free_port()
    server = textwrap.dedent("""
      server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        default_type application/json;
        if ($http_authorization != "Bearer test-token") {{ return 401 '{{"kind":"Status","code":401}}'; }}
        location / {{
          root {root};
          try_files $uri.json =404;
        }}
      }}
    """).format(port=port, cert=cert, key=key, root=root)
    with start_nginx(str(tmp_path / "nginx"), server, port, ssl_context=__import__("ssl")._create_unverified_context(),
                     ready_path="/version") as nginx:
        yield nginx, ca


def test_missing_kubeconfig_file(tmp_path):
    result = preflight(tmp_path, str(tmp_path / "absent.yaml"), [PODMONITOR])
    assert result.returncode != 0
    message = failure_message(result.stdout)
    assert "absent.yaml does not exist" in message and "Nothing was changed" in message


def test_unreachable_api_server(tmp_path):
    config = kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:{0}".format(free_port()))
    result = preflight(tmp_path, config, [PODMONITOR])
    assert result.returncode != 0
    assert "did not answer (connection refused)" in failure_message(result.stdout)


def test_wrong_ca(tmp_path, fake_discovery):
    nginx, _unused = fake_discovery
    other_ca = TestCA("some other CA")
    config = kubeconfig(tmp_path / "kubeconfig", nginx.url, ca_pem=other_ca.cert_pem)
    result = preflight(tmp_path, config, [NETWORKPOLICY])
    assert result.returncode != 0
    assert "TLS certificate" in failure_message(result.stdout)


def test_rejected_token(tmp_path, fake_discovery):
    nginx, ca = fake_discovery
    config = kubeconfig(tmp_path / "kubeconfig", nginx.url, ca_pem=ca.cert_pem, token="wrong")
    result = preflight(tmp_path, config, [NETWORKPOLICY])
    assert result.returncode != 0
    assert "refused the credentials (HTTP 401)" in failure_message(result.stdout)


def test_missing_crd_is_named_with_its_source(tmp_path, fake_discovery):
    nginx, ca = fake_discovery
    config = kubeconfig(tmp_path / "kubeconfig", nginx.url, ca_pem=ca.cert_pem)
    result = preflight(tmp_path, config, [NETWORKPOLICY, PODMONITOR])
    assert result.returncode != 0
    message = failure_message(result.stdout)
    assert "PodMonitor (monitoring.coreos.com/v1)" in message and "prometheus-operator" in message
    assert "NetworkPolicy" not in message


def test_all_apis_present_passes(tmp_path, fake_discovery):
    nginx, ca = fake_discovery
    config = kubeconfig(tmp_path / "kubeconfig", nginx.url, ca_pem=ca.cert_pem)
    result = preflight(tmp_path, config, [NETWORKPOLICY])
    assert result.returncode == 0, result.stdout


def test_repository_has_no_hardcoded_kubeconfig_path():
    offenders = [str(p) for p in (REPO / "roles").glob("*/[dt][ea]*/*.yml") if "/.kube/" in p.read_text()]
    assert offenders == []
