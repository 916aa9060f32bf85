"""Unit tests of the network_policies builder: every policy, preset and rejection."""

import copy
import pathlib

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import network_policies as np
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import platforms
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import is_owned_by
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from ansible_collections.k8s_monitoring.prometheus.plugins.modules import network_policies_build
from tests.schema import validate_manifest

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "network_policies"
ALL_ON = dict((name, True) for name in np.COMPONENTS)
PUSHERS = [{"namespace": "batch", "pod_labels": {"app": "nightly-report"}}]


def build(**params):
    return np.build(params)


def by_name(result, prefix="k8s-monitoring-"):
    return dict((m["metadata"]["name"][len(prefix):], m) for m in result["manifests"])


def peers(policy):
    return policy["spec"]["ingress"][0]["from"]


def ports(policy):
    return [(p["port"], p["protocol"]) for p in policy["spec"]["ingress"][0]["ports"]]


# ---------------------------------------------------------------- every policy, every preset

# What a preset without Fluent Bit or an ingress controller (Deckhouse) needs to be told.
OWN_WORKLOADS = {"fluent_bit": {"namespace": "logging", "pod_labels": {"app": "fluent-bit"}},
                 "ingress_controller": {"namespace": "ingress", "pod_labels": {"app": "ingress-nginx"}}}


@pytest.mark.parametrize("preset", sorted(np.PRESETS))
def test_every_component_of_every_preset_is_a_valid_owned_networkpolicy(preset):
    result = build(preset=preset, components=ALL_ON, pushers=PUSHERS, kube_state_metrics_telemetry=False,
                   api_server_cidrs=["10.0.0.0/24"], workloads=OWN_WORKLOADS if preset == "deckhouse" else {})
    assert len(result["manifests"]) == len(np.COMPONENTS)
    for manifest in result["manifests"]:
        validate_manifest(manifest)  # kubernetes-validate --strict
        assert is_owned_by(manifest, "network_policies")
        assert manifest["spec"]["policyTypes"] == ["Ingress"]
    assert result["prune_kinds"] == [{"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"}]
    assert result["required_apis"][0]["kind"] == "NetworkPolicy"


def test_kube_prometheus_stack_defaults():
    result = build(api_server_cidrs=["10.0.0.0/24"])
    policies = by_name(result)
    assert sorted(policies) == sorted([
        "allow-prometheus-to-node-exporter", "allow-prometheus-to-kube-state-metrics",
        "allow-prometheus-to-alertmanager", "allow-prometheus-to-operator", "allow-prometheus-self-monitoring",
        "allow-grafana-to-prometheus", "allow-ui-to-prometheus", "allow-ui-to-grafana", "allow-ui-to-alertmanager",
        "allow-alertmanager-cluster"])
    assert result["namespace"] == "monitoring" and result["pod_namespaces"] == ["monitoring"]
    assert result["warnings"] == []
    prometheus = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}

    node_exporter = policies["allow-prometheus-to-node-exporter"]
    assert node_exporter["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus-node-exporter"}}
    assert peers(node_exporter) == [prometheus] and ports(node_exporter) == [(9100, "TCP")]
    assert "hostNetwork" in node_exporter["metadata"]["annotations"][np.NOTE_ANNOTATION]

    assert ports(policies["allow-prometheus-to-kube-state-metrics"]) == [(8080, "TCP")]
    assert ports(policies["allow-prometheus-to-alertmanager"]) == [(9093, "TCP")]
    # The pod port, not the Service's 443.
    operator = policies["allow-prometheus-to-operator"]
    assert operator["spec"]["podSelector"] == {"matchLabels": {"app": "kube-prometheus-stack-operator"}}
    assert ports(operator) == [(10250, "TCP")]
    assert peers(operator) == [prometheus, {"ipBlock": {"cidr": "10.0.0.0/24"}}]

    assert ports(policies["allow-prometheus-self-monitoring"]) == [(9090, "TCP"), (8080, "TCP")]
    assert peers(policies["allow-grafana-to-prometheus"])[0]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "grafana"}}
    ingress = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
               "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx",
                                               "app.kubernetes.io/component": "controller"}}}
    for name, port in (("allow-ui-to-prometheus", 9090), ("allow-ui-to-grafana", 3000), ("allow-ui-to-alertmanager", 9093)):
        assert peers(policies[name]) == [ingress] and ports(policies[name]) == [(port, "TCP")]
    cluster = policies["allow-alertmanager-cluster"]
    assert ports(cluster) == [(9094, "TCP"), (9094, "UDP")]
    assert peers(cluster)[0]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "alertmanager"}}


# ---------------------------------------------------------------- Fluent Bit and the ingress controller

PROMETHEUS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                   "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
OPT_IN = {"fluent_bit": True, "ingress_controller_metrics": True}


@pytest.mark.parametrize("preset", sorted(np.PRESETS))
def test_fluent_bit_and_ingress_controller_are_opt_in_everywhere(preset):
    result = build(preset=preset, pushers=PUSHERS, components={"pushers": True})
    assert not [m for m in result["manifests"] if "fluent-bit" in m["metadata"]["name"]
                or "ingress-controller" in m["metadata"]["name"]]


@pytest.mark.parametrize("preset", ["kube-prometheus-stack", "verrazzano"])
def test_fluent_bit_admits_prometheus_on_the_metrics_port_only(preset):
    policy = by_name(build(preset=preset, components=OPT_IN, api_server_cidrs=["10.0.0.0/24"]))[
        "allow-prometheus-to-fluent-bit"]
    where = platforms.FLUENT_BIT[preset]
    assert policy["metadata"]["namespace"] == where["namespace"]
    assert policy["spec"]["podSelector"] == {"matchLabels": where["pod_labels"]}
    assert len(policy["spec"]["ingress"]) == 1  # no input port: Fluent Bit tailing files receives nothing
    assert ports(policy) == [(platforms.FLUENT_BIT_PORT, "TCP")]
    assert [p["podSelector"] for p in peers(policy)] == [{"matchLabels": np.PRESETS[preset]["workloads"][
        "prometheus"]["pod_labels"]}]
    note = policy["metadata"]["annotations"][np.NOTE_ANNOTATION]
    assert "hostNetwork: true" in note and "forward" in note


@pytest.mark.parametrize("preset", ["kube-prometheus-stack", "verrazzano"])
def test_the_ingress_controller_keeps_its_own_traffic(preset):
    policy = by_name(build(preset=preset, components=OPT_IN, api_server_cidrs=["10.0.0.0/24"]))[
        "allow-prometheus-to-ingress-controller"]
    where = platforms.INGRESS_NGINX[preset]
    assert policy["metadata"]["namespace"] == where["namespace"]
    assert policy["spec"]["podSelector"] == {"matchLabels": where["pod_labels"]}
    metrics, serving, webhook = policy["spec"]["ingress"]
    # Prometheus only on the metrics port ...
    assert [p["podSelector"] for p in metrics["from"]] == [{"matchLabels": np.PRESETS[preset]["workloads"][
        "prometheus"]["pod_labels"]}]
    assert metrics["ports"] == [{"protocol": "TCP", "port": platforms.INGRESS_NGINX_METRICS_PORT}]
    # ... everyone on the serving ports (no `from`) ...
    assert serving == {"ports": [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}]}
    # ... and the API server on the admission webhook.
    assert webhook == {"from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 8443}]}
    assert "hostNetwork: true" in policy["metadata"]["annotations"][np.NOTE_ANNOTATION]
    validate_manifest(policy)


def test_kube_prometheus_stack_ui_sources_are_the_platforms_ingress_controller():
    ingress = platforms.INGRESS_NGINX["kube-prometheus-stack"]
    assert np.PRESETS["kube-prometheus-stack"]["ui_sources"] == [
        {"namespace": ingress["namespace"], "pod_labels": ingress["pod_labels"]}]


def test_ingress_controller_ports_are_configurable():
    policy = by_name(build(components={"ingress_controller_metrics": True}, workloads={"ingress_controller": {
        "ports": {"metrics": "metrics", "http": 8080, "https": 8443, "webhook": None}}}))[
        "allow-prometheus-to-ingress-controller"]
    assert [rule["ports"] for rule in policy["spec"]["ingress"]] == [
        [{"protocol": "TCP", "port": "metrics"}], [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 8443}]]


def test_the_webhook_port_needs_the_api_server_cidrs():
    with pytest.raises(ValidationError) as err:
        build(components={"ingress_controller_metrics": True})
    assert err.value.variable == "network_policies_api_server_cidrs"
    assert "8443" in str(err.value) and "ports.webhook: null" in str(err.value)
    # Never an allow-all: an empty `from` on the webhook port would admit everyone.
    result = build(components={"ingress_controller_metrics": True, "operator": False},
                   workloads={"ingress_controller": {"ports": {"webhook": None}}})
    assert all(rule.get("from") != [] for m in result["manifests"] for rule in m["spec"].get("ingress", []))


@pytest.mark.parametrize("component,workload,reason", [
    ("fluent_bit", "fluent_bit", "Vector"),
    ("ingress_controller_metrics", "ingress_controller", "scrapes its own ingress controllers"),
])
def test_deckhouse_refuses_what_it_does_not_run(component, workload, reason):
    assert platforms.FLUENT_BIT["deckhouse"] is None and platforms.INGRESS_NGINX["deckhouse"] is None
    with pytest.raises(ValidationError) as err:
        build(preset="deckhouse", components={component: True}, api_server_cidrs=["10.0.0.0/24"])
    assert err.value.variable == "network_policies_components." + component
    assert reason in str(err.value) and "network_policies_workloads." + workload in str(err.value)
    # Half a description is not enough: the namespace and the labels of the user's own pods.
    with pytest.raises(ValidationError) as err:
        build(preset="deckhouse", components={component: True}, api_server_cidrs=["10.0.0.0/24"],
              workloads={workload: {"namespace": "logging"}})
    assert err.value.variable == "network_policies_workloads.{0}.pod_labels".format(workload)
    # Described, it works, with the platform's port numbers.
    result = build(preset="deckhouse", components={component: True}, api_server_cidrs=["10.0.0.0/24"],
                   workloads={workload: OWN_WORKLOADS[workload]})
    policy = result["manifests"][-1]
    assert policy["metadata"]["namespace"] == OWN_WORKLOADS[workload]["namespace"]
    assert policy["spec"]["ingress"][0]["ports"][0]["port"] in (platforms.FLUENT_BIT_PORT,
                                                                platforms.INGRESS_NGINX_METRICS_PORT)
    assert peers(policy)[0]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus",
                                                               "prometheus": "main"}}


def test_default_deny_selects_every_pod_and_admits_nothing():
    deny = by_name(build(components={"default_deny": True}))["default-deny-ingress"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert deny["metadata"]["namespace"] == "monitoring"


def test_pushgateway_scrape_and_pushers():
    policies = by_name(build(components={"pushgateway": True, "pushers": True}, pushers=PUSHERS))
    assert ports(policies["allow-prometheus-to-pushgateway"]) == [(9091, "TCP")]
    assert peers(policies["allow-pushers-to-pushgateway"]) == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "batch"}},
        "podSelector": {"matchLabels": {"app": "nightly-report"}}}]


def test_kube_state_metrics_telemetry_port():
    policy = by_name(build(kube_state_metrics_telemetry=True))["allow-prometheus-to-kube-state-metrics"]
    assert ports(policy) == [(8080, "TCP"), (8081, "TCP")]


def test_verrazzano_preset():
    result = build(preset="verrazzano", components={"grafana_ui": True})
    policies = by_name(result)
    assert result["namespace"] == "verrazzano-monitoring"
    assert "allow-ui-to-alertmanager" not in policies  # Verrazzano ships Alertmanager off
    grafana = policies["allow-ui-to-grafana"]
    assert grafana["metadata"]["namespace"] == "verrazzano-system"
    assert grafana["spec"]["podSelector"] == {"matchLabels": {"app": "system-grafana"}}
    assert peers(grafana) == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "verrazzano-system"}},
                               "podSelector": {"matchLabels": {"app": "verrazzano-authproxy"}}}]
    assert ports(policies["allow-prometheus-to-operator"]) == [(10250, "TCP")]
    assert result["pod_namespaces"] == ["verrazzano-monitoring", "verrazzano-system"]


def test_deckhouse_preset_uses_the_kube_rbac_proxy_ports():
    result = build(preset="deckhouse", components={"pushgateway": True, "pushers": True},
                   pushers=[{"namespace": "batch", "pod_labels": {"app": "report"}}])
    policies = by_name(result)
    assert result["warnings"] == []  # no admission webhook on Deckhouse's operator
    assert ports(policies["allow-prometheus-to-node-exporter"]) == [(4206, "TCP")]
    assert policies["allow-prometheus-to-node-exporter"]["spec"]["podSelector"] == {"matchLabels": {"app": "node-exporter"}}
    operator = policies["allow-prometheus-to-operator"]
    assert operator["metadata"]["namespace"] == "d8-operator-prometheus" and ports(operator) == [(8443, "TCP")]
    assert peers(operator)[0]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus", "prometheus": "main"}}
    assert ports(policies["allow-ui-to-grafana"]) == [(8443, "TCP")]
    assert ports(policies["allow-prometheus-self-monitoring"]) == [(9090, "TCP")]  # no separate reloader port
    pushgateway = policies["allow-prometheus-to-pushgateway"]
    assert pushgateway["metadata"]["namespace"] == "kube-prometheus-pushgateway"
    assert pushgateway["spec"]["podSelector"] == {}  # every instance of the dedicated namespace


def test_overrides_win_over_the_preset():
    result = build(namespace="observability", name_prefix="mon-",
                   components={"grafana_ui": False, "default_deny": True},
                   workloads={"operator": {"ports": {"https": "https"}},
                              "node_exporter": {"pod_labels": {"app": "node-exporter"}, "ports": {"metrics": 9101}}},
                   ui_sources=[{"namespace_labels": {"team": "edge"}, "pod_labels": {"app": "oauth2-proxy"}},
                               {"cidr": "192.168.10.0/24", "except": ["192.168.10.128/25"]}])
    policies = by_name(result, prefix="mon-")
    assert "allow-ui-to-grafana" not in policies and "default-deny-ingress" in policies
    assert all(p["metadata"]["namespace"] == "observability" for p in policies.values())
    assert ports(policies["allow-prometheus-to-operator"]) == [("https", "TCP")]
    node_exporter = policies["allow-prometheus-to-node-exporter"]
    assert ports(node_exporter) == [(9101, "TCP")]
    assert node_exporter["spec"]["podSelector"] == {"matchLabels": {"app": "node-exporter"}}
    assert peers(node_exporter)[0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}
    assert peers(policies["allow-ui-to-prometheus"]) == [
        {"namespaceSelector": {"matchLabels": {"team": "edge"}}, "podSelector": {"matchLabels": {"app": "oauth2-proxy"}}},
        {"ipBlock": {"cidr": "192.168.10.0/24", "except": ["192.168.10.128/25"]}}]
    for manifest in result["manifests"]:
        validate_manifest(manifest)


def test_pod_labels_alone_mean_the_protected_pods_namespace():
    policy = by_name(build(ui_sources=[{"pod_labels": {"app": "oauth2-proxy"}}]))["allow-ui-to-prometheus"]
    assert peers(policy) == [{"podSelector": {"matchLabels": {"app": "oauth2-proxy"}}}]


def test_a_namespace_alone_admits_that_namespace():
    policy = by_name(build(ui_sources=[{"namespace": "ingress"}]))["allow-ui-to-prometheus"]
    assert peers(policy) == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}]


def test_missing_api_server_cidrs_is_a_warning_for_webhook_presets():
    assert any("network_policies_api_server_cidrs" in w for w in build()["warnings"])
    assert build(api_server_cidrs=["10.0.0.1/32"])["warnings"] == []
    assert build(components={"operator": False})["warnings"] == []


def test_pushers_without_the_component_is_a_warning():
    result = build(pushers=PUSHERS, api_server_cidrs=["10.0.0.1/32"])
    assert "allow-pushers-to-pushgateway" not in by_name(result)
    assert any("network_policies_components.pushers" in w for w in result["warnings"])


def test_state_absent_builds_nothing_and_validates_only_the_namespace():
    result = build(state="absent", components={"pushers": True}, ui_sources="not a list")
    assert result["manifests"] == []
    assert result["prune_kinds"] == [{"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"}]
    assert result["namespace"] == "monitoring"  # the instance pruning looks for, as with state present
    with pytest.raises(ValidationError, match="network_policies_namespace"):
        build(state="absent", namespace="NOT A NAME")


def test_build_does_not_share_state_between_calls():
    before = copy.deepcopy(np.PRESETS)
    build(workloads={"prometheus": {"pod_labels": {"x": "y"}, "ports": {"web": 1}}})
    assert np.PRESETS == before


# ---------------------------------------------------------------- rejections

@pytest.mark.parametrize("params,variable", [
    (dict(preset="openshift"), "network_policies_preset"),
    (dict(namespace="Monitoring"), "network_policies_namespace"),
    (dict(name_prefix="UPPER-"), "network_policies_name_prefix"),
    (dict(components={"grafana": True}), "network_policies_components.grafana"),
    (dict(components={"default_deny": "yes"}), "network_policies_components.default_deny"),
    (dict(components=["default_deny"]), "network_policies_components"),
    (dict(workloads={"thanos": {}}), "network_policies_workloads.thanos"),
    (dict(workloads={"grafana": {"labels": {}}}), "network_policies_workloads.grafana.labels"),
    (dict(workloads={"grafana": {"namespace": "a_b"}}), "network_policies_workloads.grafana.namespace"),
    (dict(workloads={"grafana": {"pod_labels": {"-bad": "x"}}}), "network_policies_workloads.grafana.pod_labels.-bad"),
    (dict(workloads={"grafana": {"pod_labels": {"app": "a b"}}}), "network_policies_workloads.grafana.pod_labels.app"),
    (dict(workloads={"grafana": {"ports": {"web": 0}}}), "network_policies_workloads.grafana.ports.web"),
    (dict(workloads={"grafana": {"ports": {"web": 65536}}}), "network_policies_workloads.grafana.ports.web"),
    (dict(workloads={"grafana": {"ports": {"web": "HTTP_WEB"}}}), "network_policies_workloads.grafana.ports.web"),
    (dict(workloads={"grafana": {"ports": {"web": "a-very-long-port-name"}}}), "network_policies_workloads.grafana.ports.web"),
    (dict(workloads={"grafana": {"ports": {"metrics": 3000}}}), "network_policies_workloads.grafana.ports.metrics"),
    (dict(workloads={"grafana": {"ports": {"web": True}}}), "network_policies_workloads.grafana.ports.web"),
    (dict(components={"pushers": True}), "network_policies_pushers"),
    (dict(components={"pushers": True}, pushers=[{}]), "network_policies_pushers[0]"),
    (dict(ui_sources=[{"pod_labels": {}}]), "network_policies_ui_sources[0].pod_labels"),
    (dict(ui_sources=[{"namespace_labels": {}}]), "network_policies_ui_sources[0].namespace_labels"),
    (dict(ui_sources=[{"namespace": "Ingress"}]), "network_policies_ui_sources[0].namespace"),
    (dict(ui_sources=[{"namespace": "a", "namespace_labels": {"x": "y"}}]), "network_policies_ui_sources[0]"),
    (dict(ui_sources=[{"nmespace": "a"}]), "network_policies_ui_sources[0].nmespace"),
    (dict(ui_sources=["ingress-nginx"]), "network_policies_ui_sources[0]"),
    (dict(ui_sources=[{"cidr": "0.0.0.0/0"}]), "network_policies_ui_sources[0].cidr"),
    (dict(ui_sources=[{"cidr": "::/0"}]), "network_policies_ui_sources[0].cidr"),
    (dict(ui_sources=[{"cidr": "10.0.0.1/8"}]), "network_policies_ui_sources[0].cidr"),
    (dict(ui_sources=[{"cidr": "not-a-net"}]), "network_policies_ui_sources[0].cidr"),
    (dict(ui_sources=[{"cidr": "10.0.0.0/8", "namespace": "a"}]), "network_policies_ui_sources[0]"),
    (dict(ui_sources=[{"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}]), "network_policies_ui_sources[0].except[0]"),
    (dict(ui_sources=[{"cidr": "10.0.0.0/8", "except": ["fd00::/8"]}]), "network_policies_ui_sources[0].except[0]"),
    (dict(ui_sources=[{"cidr": "10.0.0.0/8", "except": "10.1.0.0/16"}]), "network_policies_ui_sources[0].except"),
    (dict(ui_sources=[{"namespace": "a", "except": ["10.0.0.0/8"]}]), "network_policies_ui_sources[0].except"),
    (dict(api_server_cidrs=["0.0.0.0/0"]), "network_policies_api_server_cidrs[0]"),
    (dict(api_server_cidrs=["10.0.0.300/32"]), "network_policies_api_server_cidrs[0]"),
    (dict(preset="deckhouse", kube_state_metrics_telemetry=True), "network_policies_kube_state_metrics_telemetry"),
    (dict(preset="deckhouse", workloads={"prometheus": {"ports": {"web": None, "reloader": None}}}),
     "network_policies_workloads.prometheus.ports"),
    (dict(components={"fluent_bit": True}, workloads={"fluent_bit": {"ports": {"metrics": None}}}),
     "network_policies_workloads.fluent_bit.ports"),
    (dict(workloads={"fluent_bit": {"ports": {"forward": 24224}}}), "network_policies_workloads.fluent_bit.ports.forward"),
    (dict(workloads={"ingress_controller": {"ports": {"webhook": 0}}}),
     "network_policies_workloads.ingress_controller.ports.webhook"),
    (dict(preset="deckhouse", workloads={"ingress_controller": {"ports": {"metrics": 10254}}}),
     "network_policies_workloads.ingress_controller.namespace"),
    (dict(preset="deckhouse", components={"fluent_bit": True}), "network_policies_components.fluent_bit"),
])
def test_rejections_name_the_variable(params, variable):
    with pytest.raises(ValidationError) as err:
        np.build(params)
    assert err.value.variable == variable
    assert str(err.value).startswith(variable + ": ")


def test_an_empty_source_list_is_never_an_allow_all():
    with pytest.raises(ValidationError, match="never turns it into allow-all"):
        np.validate_sources("network_policies_pushers", [])


# ---------------------------------------------------------------- live checks (apply mode), with pod dicts

def pod(name, labels, ports=(), namespace="monitoring", host_network=False):
    spec = {"containers": [{"name": "main", "image": "x",
                            "ports": [dict({"containerPort": p[0], "protocol": p[2] if len(p) > 2 else "TCP"},
                                           **({"name": p[1]} if len(p) > 1 and p[1] else {})) for p in ports]}]}
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": spec}


KPS_PODS = [
    pod("prometheus-0", {"app.kubernetes.io/name": "prometheus"}, [(9090, "http-web"), (8080, "reloader-web")]),
    pod("ne-1", {"app.kubernetes.io/name": "prometheus-node-exporter"}, [(9100, "http-metrics")]),
    pod("ksm-1", {"app.kubernetes.io/name": "kube-state-metrics"}, [(8080, "http")]),
    pod("operator-1", {"app": "kube-prometheus-stack-operator"}, [(10250, "https")]),
]


def policies_for(**params):
    params.setdefault("components", {})
    for name in ("alertmanager", "grafana_datasource", "prometheus_ui", "grafana_ui", "alertmanager_ui",
                 "alertmanager_cluster"):
        params["components"].setdefault(name, False)
    return np.build(params)["manifests"]


def test_live_pods_that_match_raise_no_finding():
    assert np.live_findings(policies_for(), KPS_PODS) == []


def test_a_port_the_pods_do_not_expose_is_reported():
    policies = policies_for(workloads={"operator": {"ports": {"https": 443}}})
    findings = np.live_findings(policies, KPS_PODS)
    assert len(findings) == 1
    assert "monitoring/k8s-monitoring-allow-prometheus-to-operator allows 443/TCP" in findings[0]
    assert "10250/TCP (https)" in findings[0] and "container port" in findings[0]


def test_named_ports_are_compared_by_name_and_protocol_matters():
    assert np.live_findings(policies_for(workloads={"operator": {"ports": {"https": "https"}}}), KPS_PODS) == []
    findings = np.live_findings(policies_for(workloads={"operator": {"ports": {"https": "metrics"}}}), KPS_PODS)
    assert len(findings) == 1 and "allows metrics/TCP" in findings[0]
    udp_only = [pod("am-0", {"app.kubernetes.io/name": "alertmanager"}, [(9094, "mesh-udp", "UDP")])]
    findings = np.live_findings(policies_for(components={"alertmanager_cluster": True}), udp_only)
    assert any("allows 9094/TCP" in f for f in findings)
    assert not any("allows 9094/UDP" in f for f in findings)


def test_a_policy_that_selects_no_pod_is_reported():
    findings = np.live_findings(policies_for(), KPS_PODS[:1] + KPS_PODS[2:])
    assert findings == [f for f in findings if "node-exporter" in f] and len(findings) == 1
    assert "selects no running pod (app.kubernetes.io/name=prometheus-node-exporter in monitoring)" in findings[0]


def test_pods_in_other_namespaces_do_not_count():
    elsewhere = [dict(p, metadata=dict(p["metadata"], namespace="default")) for p in KPS_PODS]
    assert len(np.live_findings(policies_for(), elsewhere)) == 4


def test_host_network_node_exporter_is_reported():
    pods = KPS_PODS[:1] + [pod("ne-1", {"app.kubernetes.io/name": "prometheus-node-exporter"}, [(9100, "http-metrics")],
                               host_network=True)] + KPS_PODS[2:]
    findings = np.live_findings(policies_for(), pods)
    assert len(findings) == 1
    assert "hostNetwork: true (ne-1)" in findings[0] and "node firewall" in findings[0]


def test_default_deny_is_not_compared():
    assert np.live_findings(policies_for(components={"default_deny": True}), KPS_PODS) == []


def test_build_reports_live_findings_and_the_cni():
    result = np.build({"components": {"grafana_ui": False}, "api_server_cidrs": ["10.0.0.0/24"],
                       "live_pods": KPS_PODS, "live_daemonsets": [{"metadata": {"namespace": "kube-flannel",
                                                                                "name": "kube-flannel-ds"}}]})
    assert any("selects no running pod" in w and "alertmanager" in w for w in result["warnings"])
    assert any("Found Flannel" in w for w in result["warnings"])


@pytest.mark.parametrize("daemonsets,enforced", [
    ([{"metadata": {"namespace": "kube-system", "name": "calico-node"}}], True),
    ([{"metadata": {"namespace": "calico-system", "name": "calico-node"}}], True),
    ([{"namespace": "kube-system", "name": "cilium"}], True),
    ([{"namespace": "d8-cni-cilium", "name": "agent"}], True),
    ([{"namespace": "kube-system", "name": "antrea-agent"}], True),
    ([{"namespace": "kube-system", "name": "kube-router"}], True),
    ([{"namespace": "kube-system", "name": "canal"}], True),
    ([{"namespace": "kube-flannel", "name": "kube-flannel-ds"}], False),
    ([{"namespace": "d8-cni-flannel", "name": "flannel"}], False),
    ([{"namespace": "kube-system", "name": "kindnet"}], False),
    ([{"namespace": "kube-system", "name": "kube-proxy"}], False),
    ([], False),
])
def test_cni_detection(daemonsets, enforced):
    finding = np.cni_finding(daemonsets)
    assert (finding is None) is enforced
    if not enforced:
        assert "may be stored but not enforced" in finding


def test_cni_warning_names_what_it_found():
    assert "Found Flannel" in np.cni_finding([{"namespace": "d8-cni-flannel", "name": "flannel"}])
    assert "Found" not in np.cni_finding([{"namespace": "kube-system", "name": "kube-proxy"}])


# ---------------------------------------------------------------- documentation and role agree with the code

def test_module_documentation_matches_the_argument_spec():
    options = yaml.safe_load(network_policies_build.DOCUMENTATION)["options"]
    assert sorted(options) == sorted(np.ARGUMENT_SPEC)
    for name, spec in np.ARGUMENT_SPEC.items():
        doc = options[name]
        for key in ("type", "elements", "choices"):
            assert doc.get(key) == spec.get(key), (name, key)
        assert doc.get("default") == spec.get("default"), name


def test_role_defaults_agree_with_argument_specs_and_the_module():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(specs)
    for name, spec in specs.items():
        assert name.startswith("network_policies_")
        assert "type" in spec and "description" in spec, name
        assert spec.get("default") == defaults[name], name
        module_option = np.ARGUMENT_SPEC.get(name[len("network_policies_"):])
        if module_option:
            assert module_option["type"] == spec["type"], name
            assert module_option.get("default") == spec.get("default"), name
    assert specs["network_policies_preset"]["choices"] == ["kube-prometheus-stack", "verrazzano", "deckhouse"]
    assert sorted(specs["network_policies_components"]["options"]) == sorted(np.COMPONENTS)
    assert sorted(specs["network_policies_workloads"]["options"]) == sorted(np.WORKLOAD_PORTS)
    assert sorted(specs["network_policies_ui_sources"]["options"]) == sorted(np.SOURCE_KEYS)


def test_a_ports_override_keeps_the_pushgateway_roles_labels_and_namespace():
    result = build(preset="kube-prometheus-stack", components={"pushgateway": True, "pushers": True},
                   pushers=[{"namespace": "batch", "pod_labels": {"app": "report"}}],
                   workloads={"pushgateway": {"ports": {"web": 9092}}},
                   collection_pushgateway={"enabled": True, "preset": "verrazzano", "instances": [{"name": "pg"}]})
    policy = by_name(result)["allow-prometheus-to-pushgateway"]
    assert policy["metadata"]["namespace"] == "verrazzano-monitoring"
    assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "pushgateway"}}
    assert ports(policy) == [(9092, "TCP")]
