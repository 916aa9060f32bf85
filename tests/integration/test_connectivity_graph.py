"""`make graph`: the connectivity picture of each example cluster agrees with the analyzer.

The picture is checked where users look at it, in the SVG Graphviz drew: every
edge drawn is a connection network-config-analyzer reports between pods of those
two workloads on those ports, every connection it reports into a protected
workload is drawn, and a workload drawn as open really is open to every pod.
"""

import functools
import shutil
import types
from xml.etree import ElementTree

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway as pushgateway_builder
from tests import connectivity_graph as graph
from tests.integration.test_network_policies_nca import nca_executable
from tests.playbook import REPO

SVG = "{http://www.w3.org/2000/svg}"


def drawn(svg_path):
    """({(src id, dst id): label}, {node id: node text}) of a Graphviz SVG."""
    root = ElementTree.parse(str(svg_path)).getroot()
    edges, nodes = {}, {}
    for group in root.iter(SVG + "g"):
        title = group.find(SVG + "title")
        texts = [t.text or "" for t in group.iter(SVG + "text")]
        if group.get("class") == "edge":
            src, dummy, dst = title.text.partition("->")
            edges[(src, dst)] = "\n".join(texts)
        elif group.get("class") == "node":
            nodes[title.text] = "\n".join(texts)
    return edges, nodes


@pytest.fixture(scope="module")
def presets():
    return graph.cluster_presets(REPO / "inventory" / "example")


@pytest.fixture(scope="module", params=["deckhouse-prod", "kps-staging", "ocne-lab"])
def picture(request, example_fleet, presets, tmp_path_factory):
    nca_executable()  # skips, or fails under `make test`, without the analyzer
    if not shutil.which("dot"):
        pytest.fail("Graphviz `dot` not found: `make test` installs the Debian package graphviz")
    cluster = request.param
    out = tmp_path_factory.mktemp(cluster)
    connections, warnings = graph.draw(example_fleet[cluster], presets[cluster], out)
    return types.SimpleNamespace(cluster=cluster, out=out, connections=connections, warnings=warnings)


def test_every_cluster_gets_an_svg_and_a_png(picture):
    cluster, out = picture.cluster, picture.out
    assert (out / "connectivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    edges, nodes = drawn(out / "connectivity.svg")
    assert edges and nodes, cluster


def ports_of_label(label):
    """An edge label as drawn ("TCP 8080,9090" lines, or "all") -> {protocol: ports or None}, or None for all."""
    if label.strip() == "all":
        return None
    allowed = {}
    for line in label.splitlines():
        protocol, dummy, ports = line.partition(" ")
        allowed[protocol] = None if ports == "all" else {int(p) for p in ports.split(",")}
    return allowed


def test_every_drawn_edge_is_an_allowed_connection(picture):
    cluster, out, connections = picture.cluster, picture.out, picture.connections
    edges, dummy = drawn(out / "connectivity.svg")
    for (src, dst), label in edges.items():
        allowed = [a for (s, d), a in connections.items()
                   if graph.node_id(graph.workload(s)) == src and graph.node_id(graph.workload(d)) == dst]
        assert allowed, "{0}: {1} -> {2} drawn, not reported".format(cluster, src, dst)
        assert ports_of_label(label) == functools.reduce(graph.merge, allowed), (cluster, src, dst, label)


def test_every_connection_into_a_protected_workload_is_drawn(picture):
    cluster, out, connections = picture.cluster, picture.out, picture.connections
    edges, nodes = drawn(out / "connectivity.svg")
    protected = [node for node, text in nodes.items() if "open to all" not in text]
    for (src, dst) in connections:
        target = graph.node_id(graph.workload(dst))
        if target in protected:
            assert (graph.node_id(graph.workload(src)), target) in edges, \
                "{0}: {1} -> {2} reported, not drawn".format(cluster, src, dst)


def test_a_workload_drawn_open_is_open_to_every_pod(picture):
    cluster, out, connections = picture.cluster, picture.out, picture.connections
    dummy, nodes = drawn(out / "connectivity.svg")
    pods = {e for pair in connections for e in pair if graph.ENDPOINT.match(e)}
    for node, text in nodes.items():
        if "open to all" not in text:
            continue
        members = [p for p in pods if graph.node_id(graph.workload(p)) == node]
        assert members, node
        for src in pods - set(members):
            for dst in members:
                assert connections.get((src, dst), "missing") is None, "{0}: {1} -> {2}".format(cluster, src, dst)


def test_the_picture_in_the_network_policies_readme_is_current(picture):
    shown = REPO / "docs" / "images" / "connectivity-kps-staging.svg"
    if picture.cluster == "kps-staging":
        assert (picture.out / "connectivity.svg").read_text() == shown.read_text(), \
            "the example changed: `make graph`, then copy build/rendered/kps-staging/connectivity.svg to {0}".format(shown)


# Paths between the platform's pods of each example cluster (from its world) that the
# roles must open, and some they must keep closed, besides the Pushgateway paths.
PROMETHEUS = {"kps-staging": "monitoring/prometheus-kube-prometheus-stack-prometheus",
              "ocne-lab": "verrazzano-monitoring/prometheus-prometheus-operator-kube-p-prometheus",
              "deckhouse-prod": "d8-monitoring/prometheus-main"}
PATHS = {
    "kps-staging": [("monitoring/kube-prometheus-stack-grafana", PROMETHEUS["kps-staging"], 9090, True),
                    (PROMETHEUS["kps-staging"], "monitoring/kube-prometheus-stack-operator", 10250, True),
                    ("10.20.0.0/28", "monitoring/kube-prometheus-stack-operator", 10250, True),
                    ("team-a/web", PROMETHEUS["kps-staging"], 9090, False)],
    "ocne-lab": [("verrazzano-system/system-grafana", PROMETHEUS["ocne-lab"], 9090, True),
                 ("verrazzano-system/verrazzano-authproxy", PROMETHEUS["ocne-lab"], 9090, True),
                 (PROMETHEUS["ocne-lab"], "verrazzano-monitoring/prometheus-operator-kube-p-operator", 10250, True),
                 ("verrazzano-ingress-nginx/ingress-controller-ingress-nginx-controller", PROMETHEUS["ocne-lab"], 9090,
                  False),
                 ("team-a/web", PROMETHEUS["ocne-lab"], 9090, False)],
    "deckhouse-prod": [("d8-monitoring/grafana-v10", PROMETHEUS["deckhouse-prod"], 9090, True),
                       ("d8-ingress-nginx/controller-main", "d8-monitoring/grafana-v10", 8443, True),
                       (PROMETHEUS["deckhouse-prod"], "d8-operator-prometheus/prometheus-operator", 8443, True),
                       ("team-a/web", PROMETHEUS["deckhouse-prod"], 9090, False)],
}
PUSHER = "batch/nightly-report"  # app.kubernetes.io/part-of=nightly-reports, the example's pushers
NOT_A_PUSHER = "batch/cleanup"
OTHER_TEAM = "team-a/web"


def rendered_pushgateways(cluster_dir):
    """Workload ids of the Pushgateways the pushgateway role asks for: its Deployments, or the
    instances of the Deckhouse ModuleConfig (whose pods the world describes)."""
    found = set()
    for obj in graph.rendered_objects(cluster_dir):
        metadata = obj["metadata"]
        if obj["kind"] == "Deployment" and (metadata.get("labels") or {}).get("app.kubernetes.io/name") == "pushgateway":
            found.add("{0}/{1}".format(metadata["namespace"], metadata["name"]))
        elif obj["kind"] == "ModuleConfig" and metadata["name"] == pushgateway_builder.DECKHOUSE_MODULE:
            found.update("{0}/{1}".format(pushgateway_builder.DECKHOUSE_NAMESPACE, name)
                         for name in obj["spec"]["settings"]["instances"])
    return found


def allows(connections, src, dst, port):
    """Whether some pod of workload ``src`` may open TCP ``port`` on some pod of workload ``dst``."""
    for (s, d), allowed in connections.items():
        if graph.node_id(graph.workload(s)) == src and graph.node_id(graph.workload(d)) == dst:
            if allowed is None or ("TCP" in allowed and (allowed["TCP"] is None or port in allowed["TCP"])):
                return True
    return False


def test_the_roles_agree_in_each_rendered_cluster(picture, example_fleet):
    """Prometheus scrapes every Pushgateway, the pushers push, Grafana queries Prometheus; others stay out."""
    cluster, connections = picture.cluster, picture.connections
    pushgateways = rendered_pushgateways(example_fleet[cluster])
    assert pushgateways, cluster
    endpoints = {graph.node_id(graph.workload(e)) for pair in connections for e in pair}
    assert pushgateways <= endpoints, "the world has no pods for {0}".format(sorted(pushgateways - endpoints))
    for pushgateway in sorted(pushgateways):
        assert allows(connections, PROMETHEUS[cluster], pushgateway, 9091), (cluster, pushgateway)
        assert allows(connections, PUSHER, pushgateway, 9091), (cluster, pushgateway)
        assert not allows(connections, OTHER_TEAM, pushgateway, 9091), (cluster, pushgateway)
        assert not allows(connections, NOT_A_PUSHER, pushgateway, 9091), (cluster, pushgateway)
    for src, dst, port, allowed in PATHS[cluster]:
        assert allows(connections, src, dst, port) is allowed, (cluster, src, dst, port)


# Workloads the collection scrapes but does not run, where the example cluster switches their
# components on (Deckhouse has neither): Fluent Bit, and the ingress-nginx controller.
FLUENT_BIT = {"kps-staging": "logging/fluent-bit", "ocne-lab": "verrazzano-system/fluent-bit"}
INGRESS_CONTROLLER = {"kps-staging": "ingress-nginx/ingress-nginx-controller",
                      "ocne-lab": "verrazzano-ingress-nginx/ingress-controller-ingress-nginx-controller"}


def test_only_prometheus_reaches_fluent_bit_and_the_ingress_controller_metrics(picture):
    """Prometheus scrapes Fluent Bit (2020) and the ingress controller (10254); no other pod or address does."""
    cluster, connections = picture.cluster, picture.connections
    if cluster not in FLUENT_BIT:
        return
    sources = {graph.node_id(graph.workload(src)) for src, dummy in connections}
    assert FLUENT_BIT[cluster] in sources and INGRESS_CONTROLLER[cluster] in sources, "the world lacks the pods"
    for target, port in ((FLUENT_BIT[cluster], 2020), (INGRESS_CONTROLLER[cluster], 10254)):
        assert allows(connections, PROMETHEUS[cluster], target, port), (cluster, target, port)
        others = sorted(src for src in sources - {PROMETHEUS[cluster]} if allows(connections, src, target, port))
        assert others == [], (cluster, target, port)


def test_the_ingress_controller_still_serves_everyone(picture):
    """Isolating the controller for its metrics must not cut it off: 80/443 from every pod and address,
    the admission webhook (8443) from the API server's CIDR only."""
    cluster, connections = picture.cluster, picture.connections
    if cluster not in INGRESS_CONTROLLER:
        return
    controller = INGRESS_CONTROLLER[cluster]
    sources = {graph.node_id(graph.workload(src)) for src, dummy in connections} - {controller}
    assert any(not graph.ENDPOINT.match(src) for src in sources), "no address outside the pod network"
    for src in sorted(sources):
        for port in (80, 443):
            assert allows(connections, src, controller, port), (cluster, src, port)
    api_server = {"kps-staging": "10.20.0.0/28", "ocne-lab": "172.16.1.0/29"}[cluster]
    assert sorted(src for src in sources if allows(connections, src, controller, 8443)) == [api_server], cluster


def test_no_rendered_policy_selects_nothing(picture):
    """A selector that matches no pod protects nothing and passes every "denied" check silently."""
    assert [w for w in picture.warnings if "selects no pods" in w] == [], picture.cluster


def test_every_monitor_of_a_cluster_carries_its_prometheus_selector(example_fleet):
    """A preset that implies a Prometheus selector labels every monitor the collection renders for that cluster."""
    selectors = {"ocne-lab": {"release": "prometheus-operator"}, "kps-staging": {"release": "kube-prometheus-stack"}}
    for cluster, selector in selectors.items():
        monitors = [obj for obj in graph.rendered_objects(example_fleet[cluster])
                    if obj["kind"] in ("ServiceMonitor", "PodMonitor")]
        assert monitors, cluster
        for monitor in monitors:
            labels = monitor["metadata"]["labels"]
            assert all(labels.get(k) == v for k, v in selector.items()), (cluster, monitor["metadata"]["name"])
