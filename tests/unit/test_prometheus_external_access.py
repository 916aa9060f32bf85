"""Ingress/Secret assembly per preset and client-certificate mode, validation, outside-side documents."""

import base64
import json

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import prometheus_external_access as pea
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from tests.schema import validate_manifest

A = "nginx.ingress.kubernetes.io/"


def params(**overrides):
    merged = dict((name, spec.get("default")) for name, spec in pea.ARGUMENT_SPEC.items())
    merged.update(host="prometheus.prod.example.com", allowlist=["203.0.113.0/24"])
    merged.update(overrides)
    return merged


def ingress_of(result):
    [ingress] = [m for m in result["manifests"] if m["kind"] == "Ingress"]
    return ingress


def test_deckhouse_preset_is_the_vendor_ingress_hardened():
    result = pea.build(params(platform="deckhouse"))
    ingress = ingress_of(result)
    ann = ingress["metadata"]["annotations"]
    assert ingress["metadata"]["namespace"] == "d8-monitoring"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "prometheus", "port": {"name": "https"}}
    assert ann[A + "backend-protocol"] == "HTTPS"
    assert ann[A + "auth-type"] == "basic" and ann[A + "auth-secret"] == "prometheus-external-basic-auth"
    assert ann[A + "allowlist-source-range"] == "203.0.113.0/24"
    assert "proxy_ssl_certificate /etc/nginx/ssl/client.crt;" in ann[A + "configuration-snippet"]
    assert ingress["spec"]["tls"] == [{"hosts": ["prometheus.prod.example.com"], "secretName": "prometheus-external-tls"}]
    assert any("system namespace d8-monitoring" in w for w in result["warnings"])
    assert any("basic auth alone is weak" in w for w in result["warnings"])
    for manifest in result["manifests"]:
        validate_manifest(manifest)
        assert manifest["metadata"]["labels"]["prometheus.k8s-monitoring.io/role"] == "prometheus_external_access"


def test_kube_prometheus_stack_preset_and_explicit_override():
    ingress = ingress_of(pea.build(params(platform="kube_prometheus_stack", service_name="prom", ingress_class="nginx")))
    ann = ingress["metadata"]["annotations"]
    assert ingress["metadata"]["namespace"] == "monitoring"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ann[A + "backend-protocol"] == "HTTP"
    assert not any(k.startswith(A + "proxy-ssl") or k == A + "configuration-snippet" for k in ann)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "prom", "port": {"number": 9090}}
    validate_manifest(ingress)


def test_generic_requires_everything_explicit():
    with pytest.raises(ValidationError, match="prometheus_external_access_namespace: required with platform generic"):
        pea.build(params(platform="generic"))
    result = pea.build(params(platform="generic", namespace="obs", service_name="prometheus", service_port="9090"))
    assert ingress_of(result)["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"number": 9090}


def test_read_only_routes_only_read_paths_without_snippets():
    ingress = ingress_of(pea.build(params(platform="kube_prometheus_stack")))
    paths = dict((p["path"], p["pathType"]) for p in ingress["spec"]["rules"][0]["http"]["paths"])
    assert paths["/api/v1/query"] == "Exact" and paths["/federate"] == "Exact" and paths["/api/v1/label"] == "Prefix"
    assert "/" not in paths and not any("admin" in p or p.startswith("/-/") or "write" in p for p in paths)
    assert A + "app-root" not in ingress["metadata"]["annotations"]
    assert A + "configuration-snippet" not in ingress["metadata"]["annotations"]
    open_ingress = ingress_of(pea.build(params(platform="kube_prometheus_stack", read_only=False)))
    assert [p["path"] for p in open_ingress["spec"]["rules"][0]["http"]["paths"]] == ["/"]
    assert open_ingress["metadata"]["annotations"][A + "app-root"] == "/graph"
    ui = ingress_of(pea.build(params(platform="kube_prometheus_stack", read_only_ui=True)))
    assert "/graph" in [p["path"] for p in ui["spec"]["rules"][0]["http"]["paths"]]


def test_secret_mode_checks_keys_and_emits_snippet_free_annotations():
    base = params(platform="kube_prometheus_stack", backend_protocol="HTTPS", client_cert_mode="secret",
                  proxy_ssl_name="prometheus.monitoring.svc")
    with pytest.raises(ValidationError, match="lacks ca.crt"):
        pea.build(dict(base, proxy_ssl_secret_keys=["tls.crt", "tls.key"]))
    with pytest.raises(ValidationError, match="was not found or is empty"):
        pea.build(dict(base, proxy_ssl_secret_keys=[]))
    result = pea.build(dict(base, proxy_ssl_secret_keys=["tls.crt", "tls.key", "ca.crt"]))
    ann = ingress_of(result)["metadata"]["annotations"]
    assert ann[A + "proxy-ssl-secret"] == "monitoring/prometheus-external-proxy-ssl"
    assert ann[A + "proxy-ssl-name"] == "prometheus.monitoring.svc" and ann[A + "proxy-ssl-server-name"] == "on"
    assert A + "configuration-snippet" not in ann
    unchecked = pea.build(dict(base, mode="render"))
    assert any("was not checked" in w for w in unchecked["warnings"])


def test_deckhouse_secret_mode_assembles_from_controller_client_cert():
    source = {"client.crt": base64.b64encode(b"-----BEGIN CERTIFICATE-----\nCERT\n").decode(),
              "client.key": base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nKEY\n").decode(),
              "ca.crt": base64.b64encode(b"-----BEGIN CERTIFICATE-----\nCA\n").decode()}
    base = params(platform="deckhouse", client_cert_mode="secret", proxy_ssl_secret_create=True)
    result = pea.build(dict(base, proxy_ssl_source=source))
    [secret] = [m for m in result["manifests"] if m["kind"] == "Secret"]
    assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert result["has_private_keys"] is True
    validate_manifest(secret)
    rendered = pea.build(dict(base, mode="render"))
    assert not [m for m in rendered["manifests"] if m["kind"] == "Secret"] and rendered["has_private_keys"] is False
    assert any("kubectl -n d8-monitoring create secret generic prometheus-external-proxy-ssl" in w
               for w in rendered["warnings"])
    with pytest.raises(ValidationError, match="lacks ca.crt"):
        pea.build(dict(base, proxy_ssl_source={"client.crt": source["client.crt"], "client.key": source["client.key"]}))


def test_tls_secret_from_files_apply_only(tmp_path):
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n")
    base = params(platform="deckhouse", tls_cert_file=str(cert), tls_key_file=str(key))
    applied = pea.build(base)
    [secret] = [m for m in applied["manifests"] if m["kind"] == "Secret"]
    assert secret["type"] == "kubernetes.io/tls" and applied["has_private_keys"]
    validate_manifest(secret)
    rendered = pea.build(dict(base, mode="render"))
    assert "SECRETKEYMATERIAL" not in json.dumps(rendered)
    assert not [m for m in rendered["manifests"] if m["kind"] == "Secret"]
    assert any("kubectl -n d8-monitoring create secret tls prometheus-external-tls" in w for w in rendered["warnings"])
    with pytest.raises(ValidationError, match="prometheus_external_access_tls_key_file: give both"):
        pea.build(params(platform="deckhouse", tls_cert_file=str(cert)))


@pytest.mark.parametrize("overrides,fragment", [
    (dict(host="Prometheus_example"), "prometheus_external_access_host: expected a fully qualified DNS host name"),
    (dict(allowlist=["10.0.0.1/8"]), "prometheus_external_access_allowlist[0]: expected a CIDR"),
    (dict(allowlist=[]), "prometheus_external_access_allowlist: give the source CIDRs"),
    (dict(namespace="Bad_NS"), "prometheus_external_access_namespace: expected a Kubernetes name"),
    (dict(service_port=70000), "prometheus_external_access_service_port: expected a port number"),
    (dict(auth_realm='a"b'), "prometheus_external_access_auth_realm"),
    (dict(platform="kube_prometheus_stack", client_cert_mode="controller_files", backend_protocol="HTTPS"),
     "stock ingress-nginx >= 1.12 rejects"),
    (dict(platform="kube_prometheus_stack", client_cert_mode="secret"), "needs backend_protocol HTTPS"),
    (dict(controller_client_cert_path="/etc/x.crt; return 200"), "prometheus_external_access_controller_client_cert_path"),
    (dict(read_only_extra_paths=["api"]), "prometheus_external_access_read_only_extra_paths[0]"),
    (dict(federation_match=[]), "prometheus_external_access_federation_match"),
    (dict(federation_job_name="-x"), "prometheus_external_access_federation_job_name"),
    (dict(federation_labels={"cluster": "bad value!"}), "prometheus_external_access_federation_labels.cluster"),
    (dict(federation_labels={"1x": "ok"}), "prometheus_external_access_federation_labels.1x"),
    (dict(grafana_url="ftp://grafana.example.com"), "prometheus_external_access_grafana_url: expected an http"),
    (dict(probe_url="not a url"), "prometheus_external_access_probe_url"),
    (dict(proxy_ssl_name="Bad_Name"), "prometheus_external_access_proxy_ssl_name"),
])
def test_bad_input_names_the_variable(overrides, fragment):
    base = params(platform="deckhouse")
    base.update(overrides)
    with pytest.raises(ValidationError) as err:
        pea.build(base)
    assert fragment in str(err.value)


def test_any_source_needs_the_flag_and_warns():
    result = pea.build(params(platform="deckhouse", allowlist=[], allow_any_source=True))
    assert A + "allowlist-source-range" not in ingress_of(result)["metadata"]["annotations"]
    assert pea.WARN_ANY_SOURCE in result["warnings"] and "reachable from anywhere" in pea.WARN_ANY_SOURCE


def test_snippet_outside_deckhouse_with_acknowledgement():
    result = pea.build(params(platform="kube_prometheus_stack", backend_protocol="HTTPS",
                              client_cert_mode="controller_files", allow_configuration_snippet=True))
    assert A + "configuration-snippet" in ingress_of(result)["metadata"]["annotations"]


def test_outside_side_documents_carry_no_password():
    result = pea.build(params(platform="deckhouse", federation_labels={"cluster": "prod"},
                              federation_ca_file="/etc/prometheus/ca.crt",
                              grafana_ca_reference="$__file{/etc/grafana/ca.crt}"))
    source = result["grafana_datasource"]["datasources"][0]
    assert source["url"] == "https://prometheus.prod.example.com" and source["basicAuth"] is True
    assert source["secureJsonData"]["basicAuthPassword"].startswith("$__env{")
    job = result["federation_job"]
    assert job["honor_labels"] is True and job["metrics_path"] == "/federate"
    assert job["basic_auth"] == {"username": "grafana",
                                 "password_file": "/etc/prometheus/secrets/prometheus-external-access.password"}
    assert job["tls_config"]["ca_file"] == "/etc/prometheus/ca.crt"
    assert job["static_configs"][0] == {"targets": ["prometheus.prod.example.com:443"], "labels": {"cluster": "prod"}}


def test_role_files_agree_with_the_builder():
    import pathlib
    import yaml
    role = pathlib.Path(__file__).resolve().parents[2] / "roles" / "prometheus_external_access"
    role_vars = yaml.safe_load((role / "vars" / "main.yml").read_text())
    presets = dict((k, v["namespace"]) for k, v in pea.PRESETS.items() if "namespace" in v)
    assert role_vars["prometheus_external_access__preset_namespaces"] == presets
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(defaults) <= set(options)
    for name, option in options.items():
        assert name.startswith("prometheus_external_access_") and "type" in option, name
        if name in defaults:
            assert option.get("default") == defaults[name], name
        else:
            assert "default" not in option, name
    # every builder option the role can set has a role variable of the same name
    internal = {"mode", "proxy_ssl_secret_keys", "proxy_ssl_source", "validate_only", "grafana_url", "probe_url"}
    for name in pea.ARGUMENT_SPEC:
        if name not in internal:
            assert "prometheus_external_access_" + name in options, name


# ---------------------------------------------------------------- hostile input (issue 12.8-12.10, 12.12)

@pytest.mark.parametrize("allowlist", [["0.0.0.0/0"], ["::/0"], ["0.0.0.0/1", "128.0.0.0/1"],
                                       ["203.0.113.0/24", "::/1", "8000::/1"]])
def test_an_allowlist_of_every_address_needs_the_explicit_switch(allowlist):
    with pytest.raises(ValidationError, match="prometheus_external_access_allowlist: these networks cover every"):
        pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m", allowlist=allowlist))
    result = pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m",
                              allowlist=allowlist, allow_any_source=True))
    assert pea.WARN_ANY_SOURCE in result["warnings"]


@pytest.mark.parametrize("path", ["/api/v1/admin/tsdb/delete_series", "/api/v1/admin/tsdb/snapshot", "/-/reload",
                                  "/-/quit", "/api/v1/write", "/api/v1/otlp/v1/metrics", "/api/v1/./admin/tsdb",
                                  "/api//v1/admin", "/api/v1/query/../admin/tsdb/snapshot"])
def test_read_only_refuses_admin_paths(path):
    with pytest.raises(ValidationError, match=r"read_only_extra_paths\[0\]"):
        pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m",
                         read_only_extra_paths=[path]))


def test_read_only_still_takes_harmless_extra_paths():
    ingress = ingress_of(pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m",
                                          read_only_extra_paths=["/api/v1/query_exemplars", "/-/healthy"])))
    routed = [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    assert "/-/healthy" in routed


@pytest.mark.parametrize("reference", ["hunter2-literal", "$__env{}", "s3cr3t$", "$__env{A}trailing"])
def test_a_literal_grafana_password_is_refused_without_echoing_it(reference):
    with pytest.raises(ValidationError) as err:
        pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m",
                         grafana_password_reference=reference))
    assert "grafana_password_reference" in str(err.value) and reference not in str(err.value)


@pytest.mark.parametrize("reference", ["$__env{GRAFANA_PW}", "$__file{/run/secrets/p}", "$GRAFANA_PW", "${GRAFANA_PW}",
                                       "$__vault{kv:prom:pw}"])
def test_grafana_password_references_are_accepted(reference):
    pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m",
                     grafana_password_reference=reference))


@pytest.mark.parametrize("option,value,message", [
    ("auth_realm", "Pay $5", "auth_realm"),
    ("grafana_username", "a:b", "grafana_username"),
    ("grafana_username", "", "grafana_username"),
    ("federation_username", "ops\nroot", "federation_username"),
    ("federation_username", "#admin", "federation_username"),
    ("federation_match", ["{job=x}"], r"federation_match\[0\]"),
    ("federation_match", ["{job=~\".*\"}"], r"federation_match\[0\]"),
    ("federation_match", ["up{"], r"federation_match\[0\]"),
])
def test_hostile_text_options_are_refused_naming_the_variable(option, value, message):
    with pytest.raises(ValidationError, match="prometheus_external_access_" + message):
        pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m", **{option: value}))


@pytest.mark.parametrize("option,value", [("probe_timeout", -1), ("probe_timeout", 0), ("grafana_org_id", -3),
                                          ("grafana_org_id", 0)])
def test_numbers_that_must_be_positive_are(option, value):
    with pytest.raises(ValidationError, match="prometheus_external_access_" + option):
        pea.build(params(platform="generic", service_name="p", service_port=9090, namespace="m", **{option: value}))
