"""The network_policies role through ansible-playbook: render mode, idempotency, check
mode, pruning of switched-off components, removal, rejection of bad input before any
cluster access, and apply mode up to the point where a cluster is needed: the apply-mode
live checks read pods and DaemonSets with kubernetes.core.k8s_info from a read-only
stand-in for the API (no API server can run on this machine)."""

import json
import pathlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.playbook import recap, run_playbook
from tests.schema import validate_manifest

PLAY = """
- name: Run network_policies
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Include the role
      ansible.builtin.include_role:
        name: k8s_monitoring.prometheus.network_policies
"""
PREFIX = "network_policies/monitoring.networkpolicy.k8s-monitoring-"
DATA = pathlib.Path(__file__).resolve().parent / "data" / "network_policies"


@pytest.fixture()
def playbook(tmp_path):
    path = tmp_path / "play.yml"
    path.write_text(PLAY)
    return path


def run(playbook, render_dir, *args, check=True, mode="render", env=None, **extra):
    extra_vars = {"k8s_monitoring_mode": mode, "k8s_monitoring_render_dir": str(render_dir),
                  "ansible_python_interpreter": sys.executable}
    extra_vars.update(extra)
    return run_playbook(playbook, "-i", "localhost,", *args, extra_vars=extra_vars, check=check, env=env)


def files(render_dir):
    return dict((str(p.relative_to(render_dir)), p.read_text())
                for p in sorted(pathlib.Path(render_dir).rglob("*")) if p.is_file())


def test_render_is_idempotent_valid_and_prunes_switched_off_components(playbook, tmp_path):
    out = tmp_path / "out"
    settings = dict(network_policies_components={"default_deny": True}, network_policies_api_server_cidrs=["10.0.0.0/24"])
    first = run(playbook, out, **settings)
    assert recap(first.stdout)["localhost"]["changed"] == 1
    rendered = files(out)
    assert PREFIX + "default-deny-ingress.yaml" in rendered
    assert PREFIX + "allow-prometheus-to-operator.yaml" in rendered
    policies = [yaml.safe_load(text) for name, text in rendered.items() if not name.endswith("kustomization.yaml")]
    assert len(policies) == 11
    for policy in policies:
        validate_manifest(policy)
    kustomization = yaml.safe_load(rendered["network_policies/kustomization.yaml"])
    assert len(kustomization["resources"]) == 11

    second = run(playbook, out, **settings)
    assert recap(second.stdout)["localhost"]["changed"] == 0
    assert files(out) == rendered

    # Switch two components off: their files go, the rest stay byte for byte.
    settings["network_policies_components"] = {"default_deny": False, "grafana_ui": False}
    third = run(playbook, out, **settings)
    assert recap(third.stdout)["localhost"]["changed"] == 1
    after = files(out)
    assert PREFIX + "default-deny-ingress.yaml" not in after
    assert PREFIX + "allow-ui-to-grafana.yaml" not in after
    assert len(yaml.safe_load(after["network_policies/kustomization.yaml"])["resources"]) == 9
    for name, text in after.items():
        if not name.endswith("kustomization.yaml"):
            assert rendered[name] == text


def test_check_mode_writes_nothing_and_reports_the_change(playbook, tmp_path):
    out = tmp_path / "out"
    result = run(playbook, out, "--check", "--diff", network_policies_preset="deckhouse")
    assert recap(result.stdout)["localhost"]["changed"] == 1
    assert "4206" in result.stdout  # the diff shows the node-exporter port
    assert not out.exists()


def test_state_absent_removes_what_the_role_rendered(playbook, tmp_path):
    out = tmp_path / "out"
    run(playbook, out, network_policies_preset="verrazzano")
    assert any(name.startswith("network_policies/") for name in files(out))
    # Another instance (the kube-prometheus-stack preset's namespace, monitoring) removes nothing of this one.
    other = run(playbook, out, network_policies_state="absent")
    assert recap(other.stdout)["localhost"]["changed"] == 0
    assert any(name.startswith("network_policies/") for name in files(out))
    gone = run(playbook, out, network_policies_state="absent", network_policies_preset="verrazzano")
    assert recap(gone.stdout)["localhost"]["changed"] == 1
    assert not any(name.startswith("network_policies/") for name in files(out))


@pytest.mark.parametrize("extra,message", [
    (dict(network_policies_ui_sources=[{"cidr": "0.0.0.0/0"}]), "network_policies_ui_sources[0].cidr: a /0 network"),
    (dict(network_policies_workloads={"operator": {"ports": {"https": 70000}}}),
     "network_policies_workloads.operator.ports.https: expected a port number"),
])
def test_bad_input_fails_before_anything_is_rendered_or_applied(playbook, tmp_path, extra, message):
    out = tmp_path / "out"
    # Apply mode with no cluster at all: the failure must come from the build, not from a connection.
    result = run(playbook, out, check=False, mode="apply", env={"KUBECONFIG": str(tmp_path / "missing")}, **extra)
    assert result.returncode != 0
    assert message in result.stdout
    assert "Read the pods" not in result.stdout
    assert not out.exists()


def test_argument_spec_rejects_wrong_types(playbook, tmp_path):
    result = run(playbook, tmp_path / "out", check=False, network_policies_components={"default_deny": "maybe"})
    assert result.returncode != 0
    assert "default_deny" in result.stdout


def test_apply_mode_without_a_cluster_stops_at_the_preflight(playbook, tmp_path):
    """The live checks are best effort; the manifests role's preflight then says what is missing."""
    env = {"KUBECONFIG": str(tmp_path / "missing"), "HOME": str(tmp_path)}
    result = run(playbook, tmp_path / "out", check=False, mode="apply", env=env)
    assert result.returncode != 0
    assert "Could not read pods and DaemonSets" in result.stdout
    assert "Nothing was changed" in result.stdout
    assert not (tmp_path / "out").exists()


class _ReadOnlyApi(BaseHTTPRequestHandler):
    """Just enough of the Kubernetes API for kubernetes.core.k8s_info: discovery, and the
    pods and DaemonSets of a described world. Every write is refused (403)."""

    routes = {}
    pods = []
    requests = []

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = self.path.split("?")[0]
        self.requests.append("GET " + path)
        parts = path.strip("/").split("/")
        if path in self.routes:
            return self._send(200, self.routes[path])
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            items = [p for p in self.pods if p["metadata"]["namespace"] == parts[3]]
            return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
        return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"})

    def _refuse(self):
        self.requests.append("{0} {1}".format(self.command, self.path.split("?")[0]))
        self._send(403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
                         "message": "read-only test API"})

    do_PATCH = do_POST = do_PUT = do_DELETE = _refuse

    def log_message(self, *args):
        pass


def _resources(group_version, *resources):
    return {"kind": "APIResourceList", "groupVersion": group_version,
            "resources": [{"name": name, "singularName": "", "namespaced": True, "kind": kind, "verbs": ["get", "list"]}
                          for name, kind in resources]}


def _group(name):
    version = {"groupVersion": name + "/v1", "version": "v1"}
    return {"name": name, "versions": [version], "preferredVersion": version}


@pytest.fixture()
def read_only_api(tmp_path):
    world = yaml.safe_load((DATA / "worlds" / "kube-prometheus-stack.yaml").read_text())
    handler = type("Api", (_ReadOnlyApi,), {
        "pods": [item for item in world["items"] if item["kind"] == "Pod"],
        "requests": [],
        "routes": {
            "/version": {"major": "1", "minor": "33", "gitVersion": "v1.33.0"},
            "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
            "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group("apps"), _group("networking.k8s.io")]},
            "/api/v1": _resources("v1", ("pods", "Pod")),
            "/apis/apps/v1": _resources("apps/v1", ("daemonsets", "DaemonSet")),
            "/apis/networking.k8s.io/v1": _resources("networking.k8s.io/v1", ("networkpolicies", "NetworkPolicy")),
            "/apis/apps/v1/daemonsets": {"kind": "DaemonSetList", "apiVersion": "apps/v1", "metadata": {}, "items": [
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-flannel-ds", "namespace": "kube-flannel"}},
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}}]},
        },
    })
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": "http://127.0.0.1:{0}".format(server.server_port)}}],
        "users": [{"name": "test", "user": {"token": "example-token-not-secret"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}]}))
    try:
        yield kubeconfig, handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_apply_mode_live_checks_read_pods_and_daemonsets_and_warn(playbook, tmp_path, read_only_api):
    """kubernetes.core.k8s_info against a read-only stand-in API serving the kube-prometheus-stack
    world: the role's tasks hand the live pods and DaemonSets to the builder, which warns about the
    Service port 443, host-network node-exporter and Flannel. No real API server runs here, so
    the apply that follows is refused; what is checked is the read-and-compare wiring."""
    kubeconfig, requests = read_only_api
    result = run(playbook, tmp_path / "out", check=False, mode="apply", env={"HOME": str(tmp_path)},
                 k8s_monitoring_kubeconfig=str(kubeconfig),
                 network_policies_workloads={"operator": {"ports": {"https": 443}}},
                 network_policies_api_server_cidrs=["10.0.0.0/24"])
    output = " ".join(result.stdout.split())
    assert "GET /api/v1/namespaces/monitoring/pods" in requests
    assert "GET /apis/apps/v1/daemonsets" in requests
    assert "k8s-monitoring-allow-prometheus-to-operator allows 443/TCP" in output
    assert "expose 10250/TCP (https)" in output
    assert "hostNetwork: true (kube-prometheus-stack-prometheus-node-exporter-x7k2p)" in output
    assert "Found Flannel, which does not enforce them" in output
    assert "selects no running pod" not in output
    assert "Could not read" not in output
    assert result.returncode != 0  # the stand-in refuses the apply
    assert all(r.startswith("GET ") or r.startswith("PATCH /apis/networking.k8s.io/") for r in requests)
