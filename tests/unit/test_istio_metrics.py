"""Unit tests of the istio_metrics builder: principals, presets, validation, selectors."""

import copy
import pathlib

import jsonschema
import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import istio_metrics
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import is_owned_by
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from tests.schema import crd_schemas, validate_manifest

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "istio_metrics"


ROOT_FIELDS = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}


def validate(manifest):
    """``tests.schema.validate_manifest``, plus the root fields every API server accepts.

    Istio's CRD schema lists only ``spec`` and ``status`` at the root (the API server
    adds ``apiVersion``, ``kind`` and ``metadata`` itself), and the strict mode of
    tests/schema.py then rejects them. For such CRDs the same strict schema is used
    with those three fields allowed; everything below the root is checked unchanged.
    """
    api_version = manifest["apiVersion"].rpartition("/")
    schema = crd_schemas().get((api_version[0], api_version[2], manifest["kind"]))
    if schema is None or "metadata" in schema.get("properties", {}):
        validate_manifest(manifest)
        return
    schema = dict(schema, properties=dict(schema["properties"], **ROOT_FIELDS))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert not errors, "{0} {1}: {2}".format(manifest["kind"], manifest["metadata"]["name"], "; ".join(
        "{0}: {1}".format("/".join(str(p) for p in e.absolute_path), e.message) for e in errors))


def params(**overrides):
    """Module parameters as Ansible would pass them: every option, defaults filled in."""
    result = {}
    for name, spec in istio_metrics.ARGUMENT_SPEC.items():
        result[name] = copy.deepcopy(spec.get("default"))
    result.update(overrides)
    return result


CLIENT = {"namespace": "monitoring", "service_account": "grafana"}


def by_kind(result, kind):
    found = [m for m in result["manifests"] if m["kind"] == kind]
    assert len(found) == 1, [m["kind"] for m in result["manifests"]]
    return found[0]


def rejected(**overrides):
    with pytest.raises(ValidationError) as err:
        istio_metrics.build(params(**overrides))
    return err.value


# --- principals and rules --------------------------------------------------------------


def test_principal_is_trust_domain_ns_sa():
    assert istio_metrics.principal("cluster.local", "verrazzano-system", "verrazzano-authproxy") == \
        "cluster.local/ns/verrazzano-system/sa/verrazzano-authproxy"


def test_one_rule_per_client_with_namespace_principal_and_string_ports():
    result = istio_metrics.build(params(
        clients=[CLIENT, {"namespace": "kiali-ns", "service_account": "kiali"}],
        trust_domain="prod.example.com", ports=[9090, 10902]))
    policy = by_kind(result, "AuthorizationPolicy")
    assert policy["apiVersion"] == "security.istio.io/v1"
    assert policy["spec"]["action"] == "ALLOW"
    assert policy["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}
    assert policy["spec"]["rules"] == [
        {"from": [{"source": {"namespaces": ["monitoring"],
                              "principals": ["prod.example.com/ns/monitoring/sa/grafana"]}}],
         "to": [{"operation": {"ports": ["9090", "10902"]}}]},
        {"from": [{"source": {"namespaces": ["kiali-ns"],
                              "principals": ["prod.example.com/ns/kiali-ns/sa/kiali"]}}],
         "to": [{"operation": {"ports": ["9090", "10902"]}}]},
    ]
    assert policy["metadata"]["namespace"] == "monitoring"


def test_no_placeholder_anywhere_in_the_output():
    result = istio_metrics.build(params(preset="verrazzano", istiod_service_monitor_enabled=True))
    text = yaml.safe_dump(result["manifests"])
    assert "TBD" not in text and "<" not in text


# --- presets ---------------------------------------------------------------------------


def test_verrazzano_preset_fills_namespace_and_authproxy_client():
    result = istio_metrics.build(params(preset="verrazzano"))
    policy = by_kind(result, "AuthorizationPolicy")
    assert result["namespace"] == "verrazzano-monitoring"
    assert policy["metadata"]["namespace"] == "verrazzano-monitoring"
    assert policy["spec"]["rules"][0]["from"][0]["source"] == {
        "namespaces": ["verrazzano-system"],
        "principals": ["cluster.local/ns/verrazzano-system/sa/verrazzano-authproxy"]}
    assert by_kind(result, "PodMonitor")["metadata"]["namespace"] == "verrazzano-monitoring"


def test_explicit_values_win_over_the_preset():
    result = istio_metrics.build(params(preset="verrazzano", namespace="custom-mon", clients=[CLIENT]))
    policy = by_kind(result, "AuthorizationPolicy")
    assert policy["metadata"]["namespace"] == "custom-mon"
    assert [r["from"][0]["source"]["namespaces"] for r in policy["spec"]["rules"]] == [["monitoring"]]


def test_without_preset_the_namespace_is_monitoring():
    assert istio_metrics.build(params(clients=[CLIENT]))["namespace"] == "monitoring"


# --- rejections ------------------------------------------------------------------------


@pytest.mark.parametrize("clients", [None, []])
def test_no_clients_and_no_preset_fails_naming_the_variable(clients):
    err = rejected(clients=clients)
    assert err.variable == "istio_metrics_clients"
    assert "istio_metrics_preset: verrazzano" in str(err)


def test_no_clients_is_fine_when_the_policy_is_off():
    result = istio_metrics.build(params(authorization_policy_enabled=False))
    assert [m["kind"] for m in result["manifests"]] == ["PodMonitor"]


@pytest.mark.parametrize("client, variable", [
    ({"namespace": "Verrazzano-System", "service_account": "a"}, "istio_metrics_clients[0].namespace"),
    ({"namespace": "ns_1", "service_account": "a"}, "istio_metrics_clients[0].namespace"),
    ({"namespace": "a" * 64, "service_account": "a"}, "istio_metrics_clients[0].namespace"),
    ({"namespace": "TBD", "service_account": "a"}, "istio_metrics_clients[0].namespace"),
    ({"namespace": "ns", "service_account": "TBD"}, "istio_metrics_clients[0].service_account"),
    ({"namespace": "ns", "service_account": "a/b"}, "istio_metrics_clients[0].service_account"),
    ({"namespace": "ns", "service_account": "*"}, "istio_metrics_clients[0].service_account"),
    ({"namespace": "ns"}, "istio_metrics_clients[0].service_account"),
    ({"service_account": "sa"}, "istio_metrics_clients[0].namespace"),
    ({"namespace": "ns", "service_account": "sa", "principal": "x"}, "istio_metrics_clients[0]"),
    ("ns/sa", "istio_metrics_clients[0]"),
])
def test_bad_client_is_rejected_naming_its_field(client, variable):
    assert rejected(clients=[client]).variable == variable


def test_bad_second_client_names_its_index():
    assert rejected(clients=[CLIENT, {"namespace": "x", "service_account": ""}]).variable == \
        "istio_metrics_clients[1].service_account"


def test_duplicate_client_is_rejected():
    err = rejected(clients=[CLIENT, dict(CLIENT)])
    assert err.variable == "istio_metrics_clients[1]" and "duplicate" in str(err)


def test_dotted_service_account_is_a_valid_name():
    result = istio_metrics.build(params(clients=[{"namespace": "ns", "service_account": "proxy.v2"}]))
    assert by_kind(result, "AuthorizationPolicy")["spec"]["rules"][0]["from"][0]["source"]["principals"] == \
        ["cluster.local/ns/ns/sa/proxy.v2"]


@pytest.mark.parametrize("overrides, variable", [
    ({"namespace": "Monitoring"}, "istio_metrics_namespace"),
    ({"trust_domain": "Cluster.Local"}, "istio_metrics_trust_domain"),
    ({"trust_domain": "td/ns"}, "istio_metrics_trust_domain"),
    ({"ports": []}, "istio_metrics_ports"),
    ({"ports": [0]}, "istio_metrics_ports[0]"),
    ({"ports": [9090, 70000]}, "istio_metrics_ports[1]"),
    ({"prometheus_selector": {}}, "istio_metrics_prometheus_selector"),
    ({"prometheus_selector": {"app": "prom*"}}, "istio_metrics_prometheus_selector.app"),
    ({"authorization_policy_name": "Bad_Name"}, "istio_metrics_authorization_policy_name"),
    ({"pod_monitor_name": "envoy stats"}, "istio_metrics_pod_monitor_name"),
    ({"release_label": "has space"}, "istio_metrics_release_label"),
    ({"monitor_labels": {"bad key!": "x"}}, "istio_metrics_monitor_labels.bad key!"),
    ({"monitor_labels": {"release": "other"}}, "istio_metrics_monitor_labels"),
    ({"scrape_interval": "30"}, "istio_metrics_scrape_interval"),
    ({"scrape_interval": "thirty seconds"}, "istio_metrics_scrape_interval"),
    ({"scrape_interval": ""}, "istio_metrics_scrape_interval"),
    ({"scrape_namespaces": ["ok", "Not_OK"]}, "istio_metrics_scrape_namespaces[1]"),
    ({"istiod_namespace": "istio_system"}, "istio_metrics_istiod_namespace"),
])
def test_bad_input_is_rejected_naming_the_variable(overrides, variable):
    overrides.setdefault("clients", [CLIENT])
    err = rejected(**overrides)
    assert err.variable == variable
    assert str(err).startswith(variable + ":")


def test_absent_needs_no_inputs_and_keeps_every_prune_kind():
    result = istio_metrics.build(params(state="absent", clients=None, namespace="Not Valid"))
    assert result["manifests"] == [] and result["required_apis"] == []
    assert {k["kind"] for k in result["prune_kinds"]} == {"AuthorizationPolicy", "PodMonitor", "ServiceMonitor"}


# --- PodMonitor and ServiceMonitor -----------------------------------------------------


def test_envoy_pod_monitor_has_the_vendor_semantics():
    monitor = by_kind(istio_metrics.build(params(clients=[CLIENT])), "PodMonitor")
    assert monitor["metadata"]["name"] == "envoy-stats"
    assert monitor["metadata"]["labels"]["release"] == "prometheus-operator"
    assert monitor["spec"]["namespaceSelector"] == {"any": True}
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert endpoint["path"] == "/stats/prometheus" and endpoint["enableHttp2"] is False
    assert "interval" not in endpoint
    actions = [(r["action"], r.get("regex")) for r in endpoint["relabelings"]]
    assert ("keep", ".*-envoy-prom") in actions
    assert ("drop", "Succeeded") in actions
    assert ("labeldrop", "__meta_kubernetes_pod_label_(.+)") in actions
    targets = {r.get("targetLabel"): r for r in endpoint["relabelings"]}
    assert targets["__address__"]["replacement"] == "${1}:15090"
    assert targets["namespace"]["sourceLabels"] == ["__meta_kubernetes_namespace"]
    assert targets["pod_name"]["sourceLabels"] == ["__meta_kubernetes_pod_name"]


def test_release_label_interval_and_namespaces_are_configurable():
    result = istio_metrics.build(params(clients=[CLIENT], release_label="kube-prometheus-stack",
                                        monitor_labels={"team": "mesh"}, scrape_interval="1m30s",
                                        scrape_namespaces=["shop", "payments"]))
    monitor = by_kind(result, "PodMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["metadata"]["labels"]["team"] == "mesh"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["shop", "payments"]}
    assert monitor["spec"]["podMetricsEndpoints"][0]["interval"] == "1m30s"


def test_empty_release_label_means_no_release_label():
    monitor = by_kind(istio_metrics.build(params(clients=[CLIENT], release_label="")), "PodMonitor")
    assert "release" not in monitor["metadata"]["labels"]


def test_istio_merged_variant_uses_annotations_and_skips_opted_out_pods():
    monitor = by_kind(istio_metrics.build(params(clients=[CLIENT], pod_monitor_variant="istio_merged")),
                      "PodMonitor")
    assert monitor["spec"]["selector"] == {
        "matchExpressions": [{"key": "istio-prometheus-ignore", "operator": "DoesNotExist"}]}
    relabelings = monitor["spec"]["podMetricsEndpoints"][0]["relabelings"]
    keep_scrape = [r for r in relabelings
                   if r.get("sourceLabels") == ["__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape"]]
    # A keep without a regex matches the empty string too, i.e. everything.
    assert keep_scrape[0]["regex"] == "true"


def test_istiod_service_monitor_is_optional():
    assert all(m["kind"] != "ServiceMonitor" for m in istio_metrics.build(params(clients=[CLIENT]))["manifests"])
    result = istio_metrics.build(params(clients=[CLIENT], istiod_service_monitor_enabled=True,
                                        istiod_namespace="istio-control"))
    monitor = by_kind(result, "ServiceMonitor")
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["istio-control"]}
    assert monitor["spec"]["endpoints"] == [{"port": "http-monitoring"}]
    assert {"api_version": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "source": "prometheus-operator"} in result["required_apis"]


def test_required_apis_follow_what_is_switched_on():
    kinds = [a["kind"] for a in istio_metrics.build(params(clients=[CLIENT]))["required_apis"]]
    assert kinds == ["AuthorizationPolicy", "PodMonitor"]
    kinds = [a["kind"] for a in istio_metrics.build(params(pod_monitor_enabled=False, clients=[CLIENT]))["required_apis"]]
    assert kinds == ["AuthorizationPolicy"]


def test_everything_off_warns_and_makes_nothing():
    result = istio_metrics.build(params(authorization_policy_enabled=False, pod_monitor_enabled=False))
    assert result["manifests"] == [] and "switched off" in result["warnings"][0]


def test_every_object_is_owned():
    result = istio_metrics.build(params(clients=[CLIENT], istiod_service_monitor_enabled=True))
    assert len(result["manifests"]) == 3
    assert all(is_owned_by(m, "istio_metrics") for m in result["manifests"])


@pytest.mark.parametrize("overrides", [
    {"clients": [CLIENT]},
    {"preset": "verrazzano", "istiod_service_monitor_enabled": True, "scrape_interval": "15s"},
    {"clients": [CLIENT], "pod_monitor_variant": "istio_merged", "scrape_namespaces": ["a", "b"],
     "istiod_service_monitor_enabled": True, "release_label": ""},
])
def test_every_manifest_passes_the_real_crd_schema(overrides):
    result = istio_metrics.build(params(**overrides))
    for manifest in result["manifests"]:
        validate(manifest)


def test_schema_check_would_catch_integer_ports():
    policy = by_kind(istio_metrics.build(params(clients=[CLIENT])), "AuthorizationPolicy")
    policy["spec"]["rules"][0]["to"][0]["operation"]["ports"] = [9090]
    with pytest.raises(AssertionError, match="ports"):
        validate(policy)


def test_schema_check_would_catch_a_misplaced_field():
    monitor = by_kind(istio_metrics.build(params(clients=[CLIENT])), "PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["relabelings"][0]["source_labels"] = ["x"]
    with pytest.raises(AssertionError, match="source_labels"):
        validate(monitor)


# --- selector matching -----------------------------------------------------------------


@pytest.mark.parametrize("selector, labels, expected", [
    ({}, {}, True),
    ({}, {"a": "1"}, True),
    ({"matchLabels": {"release": "prometheus-operator"}}, {"release": "prometheus-operator", "x": "y"}, True),
    ({"matchLabels": {"release": "prometheus-operator"}}, {"release": "kube-prometheus-stack"}, False),
    ({"matchLabels": {"release": "p"}}, {}, False),
    ({"matchExpressions": [{"key": "release", "operator": "In", "values": ["a", "b"]}]}, {"release": "b"}, True),
    ({"matchExpressions": [{"key": "release", "operator": "In", "values": ["a"]}]}, {}, False),
    ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]}, {}, True),
    ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]}, {"team": "x"}, False),
    ({"matchExpressions": [{"key": "team", "operator": "Exists"}]}, {"team": ""}, True),
    ({"matchExpressions": [{"key": "team", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}, {}, True),
    ({"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}, {"skip": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, {"a": "2"}, False),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
])
def test_selector_matches(selector, labels, expected):
    assert istio_metrics.selector_matches(selector, labels) is expected


def prometheus(namespace="monitoring", name="k8s", **spec):
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
            "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def warnings_for(resources, namespace_labels=None, **overrides):
    overrides.setdefault("clients", [CLIENT])
    return istio_metrics.build(params(prometheus_resources=resources, namespace_labels=namespace_labels,
                                      **overrides))["warnings"]


def test_matching_prometheus_gives_no_warning():
    assert warnings_for([prometheus(podMonitorSelector={"matchLabels": {"release": "prometheus-operator"}})]) == []


def test_no_prometheus_read_gives_no_warning():
    assert warnings_for([]) == []


def test_release_label_mismatch_is_explained():
    warnings = warnings_for([prometheus(name="kps", podMonitorSelector={"matchLabels": {"release": "kps"}})])
    assert len(warnings) == 1
    assert "PodMonitor monitoring/envoy-stats" in warnings[0]
    assert "Prometheus monitoring/kps" in warnings[0] and "release=kps" in warnings[0]
    assert "istio_metrics_release_label" in warnings[0]


def test_unset_pod_monitor_selector_selects_nothing():
    warnings = warnings_for([prometheus()])
    assert "podMonitorSelector is unset" in warnings[0]


def test_unset_namespace_selector_means_only_its_own_namespace():
    resources = [prometheus(namespace="other", podMonitorSelector={})]
    assert "only reads PodMonitors from its own namespace other" in warnings_for(resources)[0]
    assert warnings_for([prometheus(namespace="monitoring", podMonitorSelector={})]) == []


def test_namespace_selector_uses_the_namespace_labels():
    resources = [prometheus(namespace="other", podMonitorSelector={},
                            podMonitorNamespaceSelector={"matchLabels": {"monitoring": "enabled"}})]
    assert "does not select namespace monitoring" in warnings_for(resources)[0]
    labels = {"kubernetes.io/metadata.name": "monitoring", "monitoring": "enabled"}
    assert warnings_for(resources, namespace_labels=labels) == []
    by_name = [prometheus(namespace="other", podMonitorSelector={}, podMonitorNamespaceSelector={
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["monitoring"]}]})]
    assert warnings_for(by_name) == []


def test_one_picking_prometheus_is_enough():
    resources = [prometheus(name="a"), prometheus(name="b", podMonitorSelector={})]
    assert warnings_for(resources) == []


def test_ignore_namespace_selectors_is_flagged_for_an_any_namespace_monitor():
    resources = [prometheus(podMonitorSelector={}, ignoreNamespaceSelectors=True)]
    warnings = warnings_for(resources)
    assert len(warnings) == 1 and "ignoreNamespaceSelectors" in warnings[0]


def test_service_monitor_uses_the_service_monitor_selector():
    resources = [prometheus(podMonitorSelector={}, serviceMonitorSelector={"matchLabels": {"release": "x"}})]
    warnings = warnings_for(resources, istiod_service_monitor_enabled=True)
    assert len(warnings) == 1 and "ServiceMonitor monitoring/istiod" in warnings[0]


def test_selector_may_use_the_ownership_labels():
    resources = [prometheus(podMonitorSelector={"matchLabels": {"app.kubernetes.io/managed-by": "k8s_monitoring.prometheus"}})]
    assert warnings_for(resources) == []


# --- role files agree with the module ----------------------------------------------------


def test_role_defaults_agree_with_argument_specs():
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert set(specs) == set(defaults)
    for name, spec in specs.items():
        assert "type" in spec, name
        assert name.startswith("istio_metrics_"), name
        assert defaults[name] == spec.get("default"), name


def test_role_options_map_onto_module_options():
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    role_only = {"istio_metrics_check_prometheus_selector", "istio_metrics_instance"}
    module_only = {"prometheus_resources", "namespace_labels"}
    assert {n[len("istio_metrics_"):] for n in set(specs) - role_only} == set(istio_metrics.ARGUMENT_SPEC) - module_only
    for name in set(specs) - role_only:
        module_spec = istio_metrics.ARGUMENT_SPEC[name[len("istio_metrics_"):]]
        assert specs[name]["type"] == module_spec["type"], name
        assert specs[name].get("default") == module_spec.get("default"), name
        assert specs[name].get("choices") == module_spec.get("choices"), name


def test_module_documentation_matches_the_argument_spec():
    from ansible_collections.k8s_monitoring.prometheus.plugins.modules import istio_metrics_build
    options = yaml.safe_load(istio_metrics_build.DOCUMENTATION)["options"]
    assert set(options) == set(istio_metrics.ARGUMENT_SPEC)
    for name, spec in istio_metrics.ARGUMENT_SPEC.items():
        for key in ("type", "default", "choices", "elements"):
            assert options[name].get(key) == spec.get(key), (name, key)
