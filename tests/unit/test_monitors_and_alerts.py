"""Unit tests of the monitors_and_alerts builder: presets, labels, rule objects, validation."""

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import monitors_and_alerts, platforms
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import is_owned_by
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from tests.schema import validate_manifest

ALL_GROUPS = dict(pushgateway_alerts={"enabled": True, "stale_after_by_job": {"nightly": "26h"}},
                  external_access_alerts={"enabled": True, "host": "prometheus.example.com"})


def build(**params):
    return monitors_and_alerts.build(params)


def by_kind(result, kind):
    return [m for m in result["manifests"] if m["kind"] == kind]


@pytest.mark.parametrize("preset", sorted(monitors_and_alerts.PRESETS))
def test_every_preset_renders_objects_the_real_schemas_accept(preset):
    params = dict(ALL_GROUPS, preset=preset)
    if preset == "deckhouse":
        params.update(namespace="logging", fluent_bit={"enabled": True, "namespace": "logging",
                                                       "pod_labels": {"app": "fluent-bit"}, "port": "http"})
    result = build(**params)
    assert result["manifests"]
    for manifest in result["manifests"]:
        validate_manifest(manifest)
        assert is_owned_by(manifest, "monitors_and_alerts")


def test_kube_prometheus_stack_scrapes_fluent_bit_and_the_controller_where_platforms_says():
    result = build(monitor_labels={"release": "kps"})
    fluent_bit, ingress = by_kind(result, "PodMonitor")
    assert fluent_bit["spec"]["namespaceSelector"] == {"matchNames": [platforms.FLUENT_BIT["kube-prometheus-stack"]["namespace"]]}
    assert fluent_bit["spec"]["podMetricsEndpoints"] == [{"port": "http", "path": "/api/v2/metrics/prometheus"}]
    assert ingress["spec"]["selector"]["matchLabels"] == platforms.INGRESS_NGINX["kube-prometheus-stack"]["pod_labels"]
    assert ingress["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics"}]
    # Fluent Bit is scraped, so its alert group is on; the others follow their roles (off here).
    assert [m["metadata"]["name"] for m in by_kind(result, "PrometheusRule")] == ["k8s-monitoring-fluent-bit"]
    assert all(m["metadata"]["labels"]["release"] == "kps" for m in result["manifests"])


def test_verrazzano_monitors_and_rules_carry_the_selector_label():
    result = build(preset="verrazzano", **ALL_GROUPS)
    assert result["namespace"] == "verrazzano-monitoring"
    for manifest in result["manifests"]:
        assert manifest["metadata"]["labels"]["release"] == "prometheus-operator"
    with pytest.raises(ValidationError, match="monitors_and_alerts_monitor_labels: sets release differently"):
        build(preset="verrazzano", monitor_labels={"release": "other"})


def test_deckhouse_writes_cluster_scoped_rules_and_never_an_ingress_monitor():
    result = build(preset="deckhouse", pushgateway_alerts={"enabled": True}, ingress_controller={"enabled": True},
                   external_access_alerts={"enabled": True, "host": "prometheus.example.com"})
    assert [m["kind"] for m in result["manifests"]] == ["CustomPrometheusRules"]
    assert "namespace" not in result["manifests"][0]["metadata"]
    assert result["instance"] == "cluster"
    assert any("scrapes its own ingress controllers" in w and "no PodMonitor" in w for w in result["warnings"])
    assert any("do not export nginx_ingress_controller_requests" in w for w in result["warnings"])
    assert {"api_version": "deckhouse.io/v1", "kind": "CustomPrometheusRules"} in result["prune_kinds"]


def test_deckhouse_fluent_bit_needs_its_whereabouts_and_a_namespace_for_the_monitor():
    with pytest.raises(ValidationError, match="monitors_and_alerts_fluent_bit.namespace: is required"):
        build(preset="deckhouse", fluent_bit={"enabled": True})
    with pytest.raises(ValidationError, match="monitors_and_alerts_namespace: is required for monitors on Deckhouse"):
        build(preset="deckhouse", fluent_bit={"enabled": True, "namespace": "logging",
                                              "pod_labels": {"app": "fluent-bit"}, "port": "http"})


def test_switching_groups_off_leaves_one_object_per_remaining_group():
    everything = build(**ALL_GROUPS)
    names = sorted(m["metadata"]["name"] for m in by_kind(everything, "PrometheusRule"))
    assert names == ["k8s-monitoring-external-access", "k8s-monitoring-fluent-bit", "k8s-monitoring-pushgateway"]
    fewer = build(pushgateway_alerts={"enabled": True}, fluent_bit_alerts={"enabled": False})
    assert [m["metadata"]["name"] for m in by_kind(fewer, "PrometheusRule")] == ["k8s-monitoring-pushgateway"]


def test_per_job_thresholds_replace_the_default_for_those_jobs_only():
    rules = monitors_and_alerts.pushgateway_rules(dict(
        stale_after="1h", stale_after_by_job={"nightly": "26h", "a.b": "2h"}, failed_for="5m", severity="critical"))
    exprs = [r["expr"] for r in rules if r["alert"] == "PushgatewayGroupStale"]
    # One rule (promtool lints same-named rules with equal labels as duplicates).
    assert exprs == ['(time() - push_time_seconds{job="a.b"} > 7200) or '
                     '(time() - push_time_seconds{job="nightly"} > 93600) or '
                     '(time() - push_time_seconds{job!~"a\\\\.b|nightly"} > 3600)']
    assert all(r["labels"] == {"severity": "critical"} for r in rules)
    assert all(set(r["annotations"]) == {"summary", "description", "runbook"} for r in rules)


def test_the_fluent_bit_job_is_the_pod_monitor_job_unless_given():
    rules = by_kind(build(), "PrometheusRule")[0]["spec"]["groups"][0]["rules"]
    assert 'up{job="monitoring/fluent-bit"} == 0' in [r["expr"] for r in rules]
    with pytest.raises(ValidationError, match="monitors_and_alerts_fluent_bit_alerts.job: is required"):
        build(fluent_bit={"enabled": False}, fluent_bit_alerts={"enabled": True})
    own = by_kind(build(fluent_bit={"enabled": False}, fluent_bit_alerts={"enabled": True, "job": "logs/fb"}),
                  "PrometheusRule")[0]
    assert 'up{job="logs/fb"} == 0' in [r["expr"] for r in own["spec"]["groups"][0]["rules"]]


@pytest.mark.parametrize("params,message", [
    (dict(external_access_alerts={"enabled": True}), "monitors_and_alerts_external_access_alerts.host: is required"),
    (dict(external_access_alerts={"enabled": True, "host": "a b"}), "monitors_and_alerts_external_access_alerts.host"),
    (dict(external_access_alerts={"enabled": True, "host": "p.example.com", "error_ratio": 1.5}), "error_ratio"),
    (dict(external_access_alerts={"enabled": True, "host": "p.example.com", "auth_failures_per_second": 0}),
     "auth_failures_per_second: must be greater than 0"),
    (dict(pushgateway_alerts={"enabled": True, "stale_after": "soon"}), "monitors_and_alerts_pushgateway_alerts.stale_after"),
    (dict(pushgateway_alerts={"enabled": True, "stale_after_by_job": {"x": "0s"}}), "stale_after_by_job.x"),
    (dict(fluent_bit={"port": 2020}), "monitors_and_alerts_fluent_bit.port: expected the name of the container port"),
    (dict(fluent_bit={"pod_labels": {"bad key!": "x"}}), "monitors_and_alerts_fluent_bit.pod_labels"),
    (dict(fluent_bit_alerts={"errors_per_second": -1}), "errors_per_second: must not be negative"),
    (dict(scrape_interval="often"), "monitors_and_alerts_scrape_interval"),
])
def test_bad_input_names_the_variable(params, message):
    with pytest.raises(ValidationError, match=message.replace(".", r"\.").replace("(", r"\(")):
        build(**params)


def test_absent_needs_no_valid_input():
    result = build(state="absent", external_access_alerts={"enabled": True})
    assert result["manifests"] == [] and result["prune_kinds"]
