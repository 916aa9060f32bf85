"""The network_policies role's semantics, checked by a real policy analyzer.

network-config-analyzer (``nca``, IBM) computes which pod-to-pod connections a
set of NetworkPolicies allows in a described world (namespaces with labels,
pods with labels and container ports, in tests/integration/data/network_policies/worlds/).
Each preset is analysed in its own world; the tests assert connections that must
be allowed and connections that must be denied.

A policy whose selector matches no pod would pass every "denied" assertion
silently, so every analysis also counts nca's warnings ("A podSelector selects
no pods") and runs its sanity check ("NetworkPolicy ... does not select any
pods"); either makes the analysis fail.

tests/network_analyzer.py finds nca and parses its output.
"""

import os
import pathlib
import subprocess

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import network_policies
from tests import network_analyzer

DATA = pathlib.Path(__file__).resolve().parent / "data" / "network_policies"
REPO = pathlib.Path(__file__).resolve().parents[2]
WORLDS = DATA / "worlds"
VENDOR_POLICIES = DATA / "vendor-ocne-policies.yaml"


def nca_executable():
    try:
        found = network_analyzer.nca_executable()
    except RuntimeError as error:
        pytest.fail(str(error))
    if found:
        return found
    message = ("network-config-analyzer not found: set NCA, or run `make test` (it builds .venv-nca from "
               "requirements-nca.txt)")
    if os.environ.get("K8S_MONITORING_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


class Analysis:
    def __init__(self, connections, warnings, sanity, output):
        self.connections = connections
        self.warnings = warnings
        self.sanity = sanity
        self.output = output

    def allows(self, src, dst, port, protocol="TCP"):
        """Whether pod ``src`` (namespace/name) may open ``port`` on pod ``dst``."""
        key = (src, dst)
        if key not in self.connections:
            return False
        allowed = self.connections[key]
        if allowed is None:
            return True
        if protocol not in allowed:
            return False
        return allowed[protocol] is None or port in allowed[protocol]

    def assert_clean(self):
        problems = self.warnings + self.sanity
        assert not problems, "nca found problems (a selector that matches nothing passes silently otherwise):\n" + \
            "\n".join(problems)


def _finished(process, timeout=120):
    stdout = process.communicate(timeout=timeout)[0]
    return subprocess.CompletedProcess(process.args, process.returncode, stdout)


def analyze(policies, world, tmp_path, name="policies"):
    """Run nca's connectivity map and sanity check over ``policies`` in ``world``."""
    nca = nca_executable()
    policy_file = tmp_path / "{0}.yaml".format(name)
    if isinstance(policies, pathlib.Path):
        policy_file.write_text(policies.read_text())
    else:
        policy_file.write_text(yaml.safe_dump_all(policies, sort_keys=False))
    world_args = ["--ns_list", str(world), "--pod_list", str(world)]
    # The two runs are independent; run them side by side.
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            for command in ([nca, "--connectivity", str(policy_file)] + world_args + ["--output_format", "txt_no_fw_rules"],
                            [nca, "--sanity", str(policy_file)] + world_args)]
    try:
        connectivity, sanity = [_finished(run) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=10)
    assert connectivity.returncode == 0, connectivity.stdout
    connections = {}
    parsed, warnings = network_analyzer.parse_connectivity(connectivity.stdout)
    for (src, dst), allowed in parsed.items():
        connections[(src.replace("[Pod]", ""), dst.replace("[Pod]", ""))] = allowed
    sanity_problems = []
    if "passed sanity check" not in sanity.stdout:
        sanity_problems = [line for line in sanity.stdout.splitlines()
                           if line.strip() and "Total run time" not in line and not line.startswith("global:")]
    # Connectivity lists every pair it knows; an empty map means nca read no pods.
    assert connections, "nca reported no connections at all:\n" + connectivity.stdout
    return Analysis(connections, warnings, sanity_problems, connectivity.stdout + sanity.stdout)


def build(**params):
    return network_policies.build(params)["manifests"]


def world(name):
    return WORLDS / "{0}.yaml".format(name)


# ---------------------------------------------------------------- the analyzer harness itself

def test_a_selector_that_matches_no_pod_is_reported(tmp_path):
    wrong = build(preset="kube-prometheus-stack",
                  workloads={"node_exporter": {"pod_labels": {"app.kubernetes.io/name": "node-exporter"}}})
    analysis = analyze(wrong, world("kube-prometheus-stack"), tmp_path)
    with pytest.raises(AssertionError, match="does not select any pods|selects no pods"):
        analysis.assert_clean()
    # ... while the "Prometheus may scrape node-exporter" assertion still passes: the
    # policy protects nothing, so everything is allowed. Only the warning tells.
    assert analysis.allows(KPS["prometheus"], KPS["node_exporter"], 9100)
    assert analysis.allows(KPS["team_a"], KPS["node_exporter"], 9100)


def test_a_source_selector_that_matches_no_pod_is_reported(tmp_path):
    wrong = build(preset="kube-prometheus-stack",
                  ui_sources=[{"namespace": "ingress-nginx", "pod_labels": {"app": "nginx-ingress"}}])
    analysis = analyze(wrong, world("kube-prometheus-stack"), tmp_path)
    assert any("selects no pods" in w for w in analysis.warnings), analysis.output


# ---------------------------------------------------------------- kube-prometheus-stack

KPS = {
    "prometheus": "monitoring/prometheus-kube-prometheus-stack-prometheus-0",
    "prometheus_1": "monitoring/prometheus-kube-prometheus-stack-prometheus-1",
    "alertmanager": "monitoring/alertmanager-kube-prometheus-stack-alertmanager-0",
    "alertmanager_1": "monitoring/alertmanager-kube-prometheus-stack-alertmanager-1",
    "grafana": "monitoring/kube-prometheus-stack-grafana-6c9d",
    "node_exporter": "monitoring/kube-prometheus-stack-prometheus-node-exporter-x7k2p",
    "kube_state_metrics": "monitoring/kube-prometheus-stack-kube-state-metrics-5f7b",
    "operator": "monitoring/kube-prometheus-stack-operator-7d4c",
    "pushgateway": "monitoring/prometheus-pushgateway-6b8f",
    "blackbox": "monitoring/prometheus-blackbox-exporter-8c5d",
    "ingress": "ingress-nginx/ingress-nginx-controller-5c8d",
    "ingress_other": "ingress-nginx/ingress-nginx-admission-create-q2x",
    "team_a": "team-a/web-7f9c",
    "pusher": "batch/nightly-report-28734",
    "not_a_pusher": "batch/cleanup-28735",
}


@pytest.fixture(scope="module")
def kps_default_deny(tmp_path_factory):
    policies = build(preset="kube-prometheus-stack",
                     components={"default_deny": True, "pushgateway": True, "pushers": True},
                     pushers=[{"namespace": "batch", "pod_labels": {"app": "nightly-report"}}],
                     api_server_cidrs=["10.0.0.0/24"])
    return analyze(policies, world("kube-prometheus-stack"), tmp_path_factory.mktemp("kps"))


def test_kps_policies_are_clean(kps_default_deny):
    kps_default_deny.assert_clean()


@pytest.mark.parametrize("src,dst,port,protocol", [
    ("prometheus", "node_exporter", 9100, "TCP"),
    ("prometheus", "kube_state_metrics", 8080, "TCP"),
    ("prometheus", "alertmanager", 9093, "TCP"),
    ("prometheus", "operator", 10250, "TCP"),
    ("prometheus", "pushgateway", 9091, "TCP"),
    ("prometheus", "prometheus_1", 9090, "TCP"),
    ("prometheus", "prometheus_1", 8080, "TCP"),
    ("ingress", "prometheus", 9090, "TCP"),
    ("ingress", "grafana", 3000, "TCP"),
    ("ingress", "alertmanager", 9093, "TCP"),
    ("grafana", "prometheus", 9090, "TCP"),
    ("alertmanager", "alertmanager_1", 9094, "TCP"),
    ("alertmanager_1", "alertmanager", 9094, "UDP"),
    ("pusher", "pushgateway", 9091, "TCP"),
])
def test_kps_allows(kps_default_deny, src, dst, port, protocol):
    assert kps_default_deny.allows(KPS[src], KPS[dst], port, protocol), kps_default_deny.output


@pytest.mark.parametrize("src,dst,port,protocol", [
    ("team_a", "node_exporter", 9100, "TCP"),            # other namespaces -> exporters
    ("team_a", "kube_state_metrics", 8080, "TCP"),
    ("team_a", "operator", 10250, "TCP"),
    ("ingress", "node_exporter", 9100, "TCP"),           # ingress -> exporters
    ("ingress", "kube_state_metrics", 8080, "TCP"),
    ("ingress", "pushgateway", 9091, "TCP"),
    ("ingress_other", "prometheus", 9090, "TCP"),        # only the controller pods, not the whole namespace
    ("team_a", "prometheus", 9090, "TCP"),
    ("team_a", "grafana", 3000, "TCP"),
    ("not_a_pusher", "pushgateway", 9091, "TCP"),
    ("prometheus", "node_exporter", 22, "TCP"),          # closed ports under default deny
    ("prometheus", "kube_state_metrics", 8081, "TCP"),   # telemetry port is off by default
    ("grafana", "alertmanager", 9094, "TCP"),
    ("ingress", "alertmanager", 9094, "TCP"),
    ("team_a", "blackbox", 9115, "TCP"),                 # a pod no component names
    ("prometheus", "blackbox", 9115, "TCP"),
])
def test_kps_denies(kps_default_deny, src, dst, port, protocol):
    assert not kps_default_deny.allows(KPS[src], KPS[dst], port, protocol), kps_default_deny.output


def test_kps_without_default_deny_leaves_unlisted_pods_open(tmp_path):
    analysis = analyze(build(preset="kube-prometheus-stack", kube_state_metrics_telemetry=True),
                       world("kube-prometheus-stack"), tmp_path)
    analysis.assert_clean()
    assert analysis.allows(KPS["team_a"], KPS["blackbox"], 9115)
    assert not analysis.allows(KPS["team_a"], KPS["node_exporter"], 9100)
    # The telemetry port opens for Prometheus only, and only when asked (denied in kps_default_deny).
    assert analysis.allows(KPS["prometheus"], KPS["kube_state_metrics"], 8081)
    assert not analysis.allows(KPS["team_a"], KPS["kube_state_metrics"], 8081)


# ---------------------------------------------------------------- the vendor's policies

def test_vendor_policies_leave_the_operator_unreachable_while_the_roles_do_not(tmp_path):
    vendor = analyze(VENDOR_POLICIES, world("kube-prometheus-stack"), tmp_path, name="vendor")
    # The vendor's policies are syntactically fine and select real pods ...
    vendor.assert_clean()
    assert vendor.allows(KPS["prometheus"], KPS["node_exporter"], 9100)
    # ... but the operator rule names the Service port: Prometheus cannot reach the pod's 10250.
    assert vendor.allows(KPS["prometheus"], KPS["operator"], 443)
    assert not vendor.allows(KPS["prometheus"], KPS["operator"], 10250)

    ours = analyze(build(preset="kube-prometheus-stack", components={"default_deny": True}),
                   world("kube-prometheus-stack"), tmp_path, name="ours")
    ours.assert_clean()
    assert ours.allows(KPS["prometheus"], KPS["operator"], 10250)
    assert not ours.allows(KPS["prometheus"], KPS["operator"], 443)


def test_vendor_operator_port_is_flagged_by_the_live_pod_comparison():
    vendor = yaml.safe_load(VENDOR_POLICIES.read_text())["items"]  # one NetworkPolicyList document
    pods = [item for item in yaml.safe_load(world("kube-prometheus-stack").read_text())["items"] if item["kind"] == "Pod"]
    findings = network_policies.live_findings(vendor, pods)
    assert len(findings) == 2, findings  # the 443 rule, and node-exporter on the host network
    assert any("monitoring/allow-prometheus-operator allows 443/TCP" in f and "10250/TCP" in f for f in findings)


@pytest.mark.parametrize("preset", sorted(network_policies.PRESETS))
def test_preset_ports_are_container_ports_of_the_world(preset):
    """Every port of every preset policy is a containerPort of the pods it selects (apply-mode check, offline)."""
    policies = build(preset=preset, components=dict((c, True) for c in PRESET_COMPONENTS[preset]),
                     pushers=[{"namespace": "team-a", "pod_labels": {"app": "web"}}])
    pods = [item for item in yaml.safe_load(world(preset).read_text())["items"] if item["kind"] == "Pod"]
    findings = [f for f in network_policies.live_findings(policies, pods) if "hostNetwork" not in f]
    assert findings == []


# Components checked here per world. Fluent Bit and the ingress controller's metrics are opt-in
# and checked on the rendered example fleet with the same worlds (test_connectivity_graph.py).
PRESET_COMPONENTS = {
    "kube-prometheus-stack": [c for c in network_policies.COMPONENTS if c not in ("fluent_bit",
                                                                                  "ingress_controller_metrics")],
    "verrazzano": ["node_exporter", "kube_state_metrics", "operator", "prometheus_self", "grafana_datasource",
                   "prometheus_ui", "grafana_ui", "default_deny"],
    "deckhouse": ["node_exporter", "kube_state_metrics", "operator", "prometheus_self", "grafana_datasource",
                  "prometheus_ui", "grafana_ui", "pushgateway", "pushers", "default_deny"],
}


# ---------------------------------------------------------------- Verrazzano / OCNE

VZ = {
    "prometheus": "verrazzano-monitoring/prometheus-prometheus-operator-kube-p-prometheus-0",
    "node_exporter": "verrazzano-monitoring/prometheus-node-exporter-4kq9z",
    "kube_state_metrics": "verrazzano-monitoring/kube-state-metrics-7b6d",
    "operator": "verrazzano-monitoring/prometheus-operator-kube-p-operator-6f5d",
    "pushgateway": "verrazzano-monitoring/prometheus-pushgateway-5b7c",
    "authproxy": "verrazzano-system/verrazzano-authproxy-5d8f",
    "grafana": "verrazzano-system/system-grafana-7c9b",
    "ingress": "verrazzano-ingress-nginx/ingress-controller-ingress-nginx-controller-8d7f",
    "team_a": "team-a/web-7f9c",
}


@pytest.fixture(scope="module")
def verrazzano(tmp_path_factory):
    policies = build(preset="verrazzano", components={"default_deny": True, "grafana_ui": True})
    return analyze(policies, world("verrazzano"), tmp_path_factory.mktemp("vz"))


def test_verrazzano_policies_are_clean(verrazzano):
    verrazzano.assert_clean()


@pytest.mark.parametrize("src,dst,port,allowed", [
    ("prometheus", "node_exporter", 9100, True),
    ("prometheus", "kube_state_metrics", 8080, True),
    ("prometheus", "operator", 10250, True),
    ("authproxy", "prometheus", 9090, True),
    ("authproxy", "grafana", 3000, True),
    ("ingress", "prometheus", 9090, False),   # only through the auth proxy
    ("ingress", "grafana", 3000, False),
    ("team_a", "prometheus", 9090, False),
    ("team_a", "node_exporter", 9100, False),
    ("authproxy", "node_exporter", 9100, False),
    ("team_a", "operator", 10250, False),
    ("prometheus", "operator", 443, False),
    ("team_a", "pushgateway", 9091, False),    # default deny closes what no component names
])
def test_verrazzano_connections(verrazzano, src, dst, port, allowed):
    assert verrazzano.allows(VZ[src], VZ[dst], port) is allowed, verrazzano.output


# ---------------------------------------------------------------- Deckhouse

D8 = {
    "prometheus": "d8-monitoring/prometheus-main-0",
    "prometheus_1": "d8-monitoring/prometheus-main-1",
    "longterm": "d8-monitoring/prometheus-longterm-0",
    "grafana": "d8-monitoring/grafana-v10-6d9f",
    "node_exporter": "d8-monitoring/node-exporter-9wz4t",
    "kube_state_metrics": "d8-monitoring/kube-state-metrics-5c7d",
    "operator": "d8-operator-prometheus/prometheus-operator-7f8b",
    "pushgateway": "kube-prometheus-pushgateway/first-0",
    "ingress": "d8-ingress-nginx/controller-main-8x2lq",
    "kruise": "d8-ingress-nginx/kruise-controller-manager-6c4d",
    "team_a": "team-a/web-7f9c",
}


@pytest.fixture(scope="module")
def deckhouse(tmp_path_factory):
    policies = build(preset="deckhouse", components={"default_deny": True, "pushgateway": True, "pushers": True},
                     pushers=[{"namespace": "batch", "pod_labels": {"app.kubernetes.io/part-of": "nightly-reports"}}])
    return analyze(policies, world("deckhouse"), tmp_path_factory.mktemp("d8"))


def test_deckhouse_policies_are_clean(deckhouse):
    deckhouse.assert_clean()


@pytest.mark.parametrize("src,dst,port,allowed", [
    ("prometheus", "node_exporter", 4206, True),
    ("prometheus", "kube_state_metrics", 8080, True),
    ("prometheus", "operator", 8443, True),      # another namespace: the namespaceSelector matters
    ("prometheus", "pushgateway", 9091, True),
    ("prometheus", "prometheus_1", 9090, True),
    ("ingress", "prometheus", 9090, True),
    ("ingress", "grafana", 8443, True),
    ("grafana", "prometheus", 9090, True),
    ("longterm", "node_exporter", 4206, False),  # prometheus=main only
    ("prometheus", "node_exporter", 9100, False),
    ("ingress", "node_exporter", 4206, False),
    ("team_a", "prometheus", 9090, False),
    ("team_a", "kube_state_metrics", 8080, False),
    ("team_a", "grafana", 8443, False),
    ("kruise", "grafana", 8443, False),        # the controller pods only, not the whole namespace
])
def test_deckhouse_connections(deckhouse, src, dst, port, allowed):
    assert deckhouse.allows(D8[src], D8[dst], port) is allowed, deckhouse.output


# The example inventory is analysed as rendered, with the other roles' workloads: test_connectivity_graph.py.
