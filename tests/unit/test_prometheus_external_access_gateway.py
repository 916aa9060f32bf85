"""The envoy_gateway flavour of prometheus_external_access: HTTPRoute, ReferenceGrant, BackendTLSPolicy and
SecurityPolicy, valid against the real CRD schemas, with the Ingress flavour's read-only path list."""

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import prometheus_external_access as pea
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from tests.schema import validate_manifest
from tests.unit.test_prometheus_external_access import params


def gateway(**overrides):
    given = dict(platform="kube_prometheus_stack", flavour="envoy_gateway", gateway_name="public",
                 gateway_namespace="envoy-gateway-system", gateway_section_name="https", mode="render")
    given.update(overrides)
    return pea.build(params(**given))


def of_kind(result, kind):
    return [m for m in result["manifests"] if m["kind"] == kind]


def routed_paths(route):
    return [(m["path"]["value"], m["path"]["type"]) for rule in route["spec"]["rules"] for m in rule["matches"]]


def test_kube_prometheus_stack_routes_the_chart_service_over_http_with_an_envoy_security_policy():
    result = gateway()
    assert [m["kind"] for m in result["manifests"]] == ["HTTPRoute", "SecurityPolicy"]
    for manifest in result["manifests"]:
        validate_manifest(manifest)
    [route] = of_kind(result, "HTTPRoute")
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public",
                                            "namespace": "envoy-gateway-system", "sectionName": "https"}]
    assert route["spec"]["hostnames"] == ["prometheus.prod.example.com"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "kube-prometheus-stack-prometheus", "port": 9090}]
    [policy] = of_kind(result, "SecurityPolicy")
    assert policy["spec"]["basicAuth"]["users"] == {"group": "", "kind": "Secret", "name": "prometheus-external-basic-auth"}
    assert policy["spec"]["authorization"] == {"defaultAction": "Deny", "rules": [
        {"name": "allowlist", "action": "Allow", "principal": {"clientCIDRs": ["203.0.113.0/24"]}}]}
    assert {"api_version": "gateway.envoyproxy.io/v1alpha1", "kind": "SecurityPolicy",
            "source": "Envoy Gateway"} in result["required_apis"]


@pytest.mark.parametrize("read_only_ui", [False, True])
def test_the_route_matches_exactly_the_ingress_flavours_read_only_paths(read_only_ui):
    ingress = pea.build(params(platform="kube_prometheus_stack", read_only_ui=read_only_ui))
    [ingress_object] = of_kind(ingress, "Ingress")
    ingress_paths = [(p["path"], p["pathType"]) for p in ingress_object["spec"]["rules"][0]["http"]["paths"]]
    [route] = of_kind(gateway(read_only_ui=read_only_ui), "HTTPRoute")
    assert routed_paths(route) == [(path, {"Prefix": "PathPrefix"}.get(kind, kind)) for path, kind in ingress_paths]
    # An admin path is not routed, so the Gateway answers it with 404.
    assert not any(path.startswith("/api/v1/admin") or path.startswith("/-/") for path, _kind in routed_paths(route))


def test_an_admin_path_is_refused_as_an_extra_path_in_this_flavour_too():
    with pytest.raises(ValidationError, match="prometheus_external_access_read_only_extra_paths"):
        gateway(read_only_extra_paths=["/api/v1/admin/tsdb/delete_series"])


def test_a_route_in_another_namespace_gets_a_reference_grant_and_https_a_backend_tls_policy(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    result = gateway(platform="generic", namespace="prom", service_name="prometheus", service_port=9443,
                     backend_protocol="HTTPS", backend_ca_file=str(ca), route_namespace="gateways",
                     gateway_namespace=None, proxy_ssl_name="prometheus.prom.svc")
    for manifest in result["manifests"]:
        validate_manifest(manifest)
    [grant] = of_kind(result, "ReferenceGrant")
    assert grant["metadata"]["namespace"] == "prom"
    assert {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "gateways"} in grant["spec"]["from"]
    assert {"group": "", "kind": "Service", "name": "prometheus"} in grant["spec"]["to"]
    [tls] = of_kind(result, "BackendTLSPolicy")
    assert tls["spec"]["validation"] == {"hostname": "prometheus.prom.svc", "caCertificateRefs": [
        {"group": "", "kind": "ConfigMap", "name": "prometheus-external-backend-ca"}]}
    [config_map] = of_kind(result, "ConfigMap")
    assert config_map["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    [route] = of_kind(result, "HTTPRoute")
    assert route["metadata"]["namespace"] == "gateways"
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "prometheus", "namespace": "prom", "port": 9443}]
    [policy] = of_kind(result, "SecurityPolicy")
    assert policy["spec"]["basicAuth"]["users"]["namespace"] == "prom"
    # Same namespace: no ReferenceGrant.
    assert not of_kind(gateway(), "ReferenceGrant")


def test_many_extra_paths_are_split_into_rules_within_the_route_limits():
    extra = ["/api/v1/extra{0}".format(i) for i in range(100)]
    [route] = of_kind(gateway(read_only_extra_paths=extra), "HTTPRoute")
    assert [len(rule["matches"]) for rule in route["spec"]["rules"]] == [64, 45]
    validate_manifest(route)
    with pytest.raises(ValidationError, match="fewer than 128 path matches"):
        gateway(read_only_extra_paths=["/api/v1/extra{0}".format(i) for i in range(120)])


@pytest.mark.parametrize("overrides,message", [
    (dict(platform="deckhouse"), "prometheus_external_access_flavour: Deckhouse's Prometheus accepts only"),
    (dict(gateway_name=None), "prometheus_external_access_gateway_name: required"),
    (dict(tls_cert_file="/tmp/c.pem"), "prometheus_external_access_tls_cert_file: not used with the envoy_gateway"),
    (dict(ingress_class="nginx"), "prometheus_external_access_ingress_class: not used"),
    (dict(platform="generic", namespace="p", service_name="p", service_port=9090, backend_protocol="HTTPS",
          client_cert_mode="secret"), "prometheus_external_access_client_cert_mode: with the envoy_gateway flavour"),
    (dict(service_port="http-web"), "prometheus_external_access_service_port: an HTTPRoute names the Service port"),
    (dict(gateway_namespace="Bad_NS"), "prometheus_external_access_gateway_namespace"),
])
def test_what_the_flavour_cannot_honour_is_refused_naming_the_variable(overrides, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        gateway(**overrides)
