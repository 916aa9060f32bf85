from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership as o


def obj(kind, name, namespace="monitoring", component="istio_metrics", api_version="monitoring.coreos.com/v1",
        labels=None):
    metadata = {"name": name, "labels": labels if labels is not None else o.ownership_labels(component)}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def test_owned_adds_labels_without_mutating_input():
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}}
    result = o.owned(manifest, "pushgateway")
    assert result["metadata"]["labels"] == {"x": "y", o.MANAGED_BY_KEY: o.MANAGED_BY_VALUE,
                                            o.COMPONENT_KEY: "pushgateway"}
    assert manifest["metadata"]["labels"] == {"x": "y"}


def test_label_selector_is_stable():
    assert o.label_selector("network_policies") == (
        "app.kubernetes.io/managed-by=k8s_monitoring.prometheus,prometheus.k8s-monitoring.io/role=network_policies")


def test_prune_selects_only_unwanted_owned_objects():
    existing = [obj("PodMonitor", "envoy-stats"), obj("PodMonitor", "old"),
                obj("PodMonitor", "foreign", labels={"app.kubernetes.io/managed-by": "Helm"}),
                obj("PodMonitor", "other-role", component="pushgateway")]
    wanted = [obj("PodMonitor", "envoy-stats")]
    assert [p["metadata"]["name"] for p in o.select_prunable(existing, wanted, "istio_metrics")] == ["old"]


def test_prune_identity_ignores_api_version_but_not_namespace_or_kind():
    existing = [obj("AuthorizationPolicy", "p", api_version="security.istio.io/v1beta1"),
                obj("AuthorizationPolicy", "p", namespace="elsewhere", api_version="security.istio.io/v1")]
    wanted = [obj("AuthorizationPolicy", "p", api_version="security.istio.io/v1")]
    pruned = o.select_prunable(existing, wanted, "istio_metrics")
    assert [(p["metadata"]["namespace"]) for p in pruned] == ["elsewhere"]


def test_state_absent_prunes_everything_owned():
    existing = [obj("PodMonitor", "a"), obj("ModuleConfig", "prometheus-pushgateway", namespace=None,
                                            api_version="deckhouse.io/v1alpha1")]
    assert len(o.select_prunable(existing, [], "istio_metrics")) == 2


def test_secret_encodes_text_and_bytes_and_is_owned():
    secret = o.secret("auth", "monitoring", {"auth": "foo:$apr1$x", "ca.crt": b"\x00\x01"}, "pushgateway", "kubernetes.io/tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["data"] == {"auth": "Zm9vOiRhcHIxJHg=", "ca.crt": "AAE="}
    assert o.is_owned_by(secret, "pushgateway")


def test_an_instance_narrows_what_pruning_may_remove():
    team_a = o.with_instance([obj("Deployment", "a", "team-a", "pushgateway", "apps/v1")], "team-a")[0]
    team_b = o.with_instance([obj("Deployment", "b", "team-b", "pushgateway", "apps/v1")], "team-b")[0]
    assert o.label_selector("pushgateway", "team-a") == (
        "app.kubernetes.io/managed-by=k8s_monitoring.prometheus,prometheus.k8s-monitoring.io/instance=team-a,"
        "prometheus.k8s-monitoring.io/role=pushgateway")
    assert o.select_prunable([team_a, team_b], [], "pushgateway", "team-b") == [team_b]
    # Without an instance, every object of the role counts (the behaviour of release 0.1.0).
    assert o.select_prunable([team_a, team_b], [], "pushgateway") == [team_a, team_b]
