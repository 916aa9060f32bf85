"""The pushgateway role's builder: ModuleConfig, workloads, validation, real schemas."""

import copy

import jsonschema
import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway import (
    ARGUMENT_SPEC,
    build,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from tests.schema import REPO, crd_schemas, require_crds_dir, validate_manifest

BCRYPT = "$2y$10$" + "a" * 53


def spec_defaults(spec):
    return dict((k, copy.deepcopy(v.get("default"))) for k, v in spec.items())


def params(**overrides):
    base = spec_defaults(ARGUMENT_SPEC)
    base["persistence"] = spec_defaults(ARGUMENT_SPEC["persistence"]["options"])
    base.update(overrides)
    return base


def by_kind(manifests, kind):
    return [m for m in manifests if m["kind"] == kind]


def settings_schema():
    schema = yaml.safe_load((require_crds_dir() / "deckhouse_prometheus-pushgateway_config-values.yaml").read_text())
    # Deckhouse refuses settings its schema does not name; make the JSON-schema check as strict.
    schema["additionalProperties"] = False
    return schema


def validate_module_config(manifest):
    """validate_manifest, minus a gap in tests/schema.py.

    The ModuleConfig CRD's top-level schema lists only spec and status, and the strict
    mode of tests/schema.py then refuses apiVersion, kind and metadata, which every API
    server accepts on every object. Until schema.py allows those three, validate with
    them added and everything else as strict.
    """
    try:
        validate_manifest(manifest)
    except AssertionError as err:
        if "('apiVersion', 'kind', 'metadata' were unexpected)" not in str(err):
            raise
        schema = copy.deepcopy(crd_schemas()[("deckhouse.io", "v1alpha1", "ModuleConfig")])
        schema["properties"].update(apiVersion={"type": "string"}, kind={"type": "string"}, metadata={"type": "object"})
        jsonschema.Draft7Validator(schema).validate(manifest)


def test_module_config_validation_can_fail():
    config = build(params(preset="deckhouse", instances=[{"name": "first"}]))["manifests"][0]
    config["spec"]["enabled"] = "yes"
    with pytest.raises((AssertionError, jsonschema.ValidationError)):
        validate_module_config(config)
    config["spec"]["enabled"] = True
    config["spec"]["unknown"] = 1
    with pytest.raises((AssertionError, jsonschema.ValidationError)):
        validate_module_config(config)


def test_deckhouse_module_config_and_urls():
    result = build(params(preset="deckhouse", instances=[{"name": "first"}, {"name": "second"}],
                          tolerations=[{"key": "dedicated", "operator": "Equal", "value": "monitoring",
                                        "effect": "NoSchedule"}],
                          node_selector={"node-role.kubernetes.io/monitoring": ""}))
    [config] = result["manifests"]
    assert config["apiVersion"] == "deckhouse.io/v1alpha1" and config["kind"] == "ModuleConfig"
    assert config["metadata"]["name"] == "prometheus-pushgateway" and "namespace" not in config["metadata"]
    assert config["spec"]["enabled"] is True and config["spec"]["version"] == 1
    assert config["spec"]["settings"]["instances"] == ["first", "second"]
    assert ownership.is_owned_by(config, "pushgateway")
    assert result["urls"] == {"first": "http://first.kube-prometheus-pushgateway:9091",
                              "second": "http://second.kube-prometheus-pushgateway:9091"}
    jsonschema.Draft7Validator(settings_schema()).validate(config["spec"]["settings"])
    validate_module_config(config)


def test_settings_schema_catches_what_the_builder_must_not_emit():
    # Proves the schema check above can fail: a string where the module wants a list.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(settings_schema()).validate({"instances": "first"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(settings_schema()).validate({"instances": ["a"], "persistence": True})


def test_removing_an_instance_removes_it_from_the_list():
    before = build(params(preset="deckhouse", instances=[{"name": "first"}, {"name": "second"}]))
    after = build(params(preset="deckhouse", instances=[{"name": "first"}]))
    assert before["manifests"][0]["spec"]["settings"]["instances"] == ["first", "second"]
    assert after["manifests"][0]["spec"]["settings"]["instances"] == ["first"]


def test_plain_instance_objects_pass_strict_validation():
    result = build(params(instances=[{"name": "batch", "persistence": {"enabled": True, "storage_class": "fast"}},
                                     {"name": "adhoc", "honor_labels": False}],
                          basic_auth_users=[{"username": "pusher", "password_hash": BCRYPT}],
                          scrape_basic_auth_secret="pushgateway-scrape", tls_secret="pushgateway-tls",
                          service_monitor_labels={"release": "kube-prometheus-stack"}, scrape_interval="30s"))
    kinds = [m["kind"] for m in result["manifests"]]
    assert kinds == ["Secret", "PersistentVolumeClaim", "Deployment", "Service", "ServiceMonitor",
                     "Secret", "Deployment", "Service", "ServiceMonitor"]
    for manifest in result["manifests"]:
        assert ownership.is_owned_by(manifest, "pushgateway")
        validate_manifest(manifest)
    assert result["urls"] == {"batch": "https://batch.monitoring.svc:9091", "adhoc": "https://adhoc.monitoring.svc:9091"}


def test_workload_is_hardened_and_persistent_when_asked():
    result = build(params(instances=[{"name": "batch", "persistence": {"enabled": True}}]))
    deployment = by_kind(result["manifests"], "Deployment")[0]
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    container = spec["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsNonRoot"] is True
    assert "--persistence.file=/data/pushgateway.db" in container["args"]
    assert by_kind(result["manifests"], "PersistentVolumeClaim")[0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    service = by_kind(result["manifests"], "Service")[0]
    assert service["spec"]["ports"][0]["port"] == 9091
    assert by_kind(result["manifests"], "ServiceMonitor")[0]["spec"]["endpoints"][0]["honorLabels"] is True


def test_in_memory_by_default_with_http_probes():
    result = build(params(instances=[{"name": "a"}]))
    assert not by_kind(result["manifests"], "PersistentVolumeClaim") and not by_kind(result["manifests"], "Secret")
    container = by_kind(result["manifests"], "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert not any(a.startswith("--persistence.file") for a in container["args"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"


def test_web_config_holds_only_hashes_and_paths():
    result = build(params(instances=[{"name": "a"}], basic_auth_users=[{"username": "pusher", "password_hash": BCRYPT}],
                          scrape_basic_auth_secret="scrape", tls_secret="tls"))
    secret = by_kind(result["manifests"], "Secret")[0]
    config = yaml.safe_load(secret["stringData"]["web-config.yml"])
    assert config == {"basic_auth_users": {"pusher": BCRYPT},
                      "tls_server_config": {"cert_file": "/etc/pushgateway/tls/tls.crt",
                                            "key_file": "/etc/pushgateway/tls/tls.key"}}
    endpoint = by_kind(result["manifests"], "ServiceMonitor")[0]["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https" and endpoint["basicAuth"]["password"] == {"name": "scrape", "key": "password"}
    assert any("kubectl -n monitoring create secret generic scrape" in w for w in result["warnings"])


def test_build_is_deterministic():
    p = params(instances=[{"name": "a"}], basic_auth_users=[{"username": "u", "password_hash": BCRYPT}],
               scrape_basic_auth_secret="s")
    assert build(p)["manifests"] == build(copy.deepcopy(p))["manifests"]


@pytest.mark.parametrize("overrides, variable", [
    (dict(instances=[]), "pushgateway_instances"),
    (dict(instances=[{"name": "Bad_Name"}]), "pushgateway_instances[0].name"),
    (dict(instances=[{"name": "a"}, {"name": "a"}]), "pushgateway_instances[1].name"),
    (dict(instances=[{"name": "a"}], namespace="Monitoring"), "pushgateway_namespace"),
    (dict(instances=[{"name": "a", "persistence": {"enabled": True, "size": "lots"}}]),
     "pushgateway_instances[0].persistence.size"),
    (dict(instances=[{"name": "a"}], basic_auth_users=[{"username": "u", "password_hash": "plaintext"}],
          scrape_basic_auth_secret="s"), "pushgateway_basic_auth_users[0].password_hash"),
    (dict(instances=[{"name": "a"}], basic_auth_users=[{"username": "u", "password_hash": BCRYPT}]),
     "pushgateway_scrape_basic_auth_secret"),
    (dict(instances=[{"name": "a"}], scrape_interval="often"), "pushgateway_scrape_interval"),
    (dict(instances=[{"name": "a"}], tolerations=[{"key": "x", "effect": "Sometimes"}]),
     "pushgateway_tolerations[0].effect"),
    (dict(preset="deckhouse", instances=[{"name": "a", "persistence": {"enabled": True}}]),
     "pushgateway_instances[0]"),
    (dict(preset="deckhouse", instances=[{"name": "a"}], tls_secret="tls"), "pushgateway_tls_secret"),
])
def test_bad_input_names_the_variable(overrides, variable):
    with pytest.raises(ValidationError) as err:
        build(params(**overrides))
    assert err.value.variable == variable
    assert str(err.value).startswith(variable + ":")


def test_plain_text_password_is_not_echoed():
    with pytest.raises(ValidationError) as err:
        build(params(instances=[{"name": "a"}], basic_auth_users=[{"username": "u", "password_hash": "hunter2-secret"}],
                     scrape_basic_auth_secret="s"))
    assert "hunter2-secret" not in str(err.value)


def test_absent_needs_no_instances_and_prunes_both_presets():
    result = build(params(state="absent", instances=[]))
    assert result["manifests"] == [] and result["required_apis"] == []
    kinds = set(k["kind"] for k in result["prune_kinds"])
    assert kinds == {"ModuleConfig", "Deployment", "Service", "ServiceMonitor", "PersistentVolumeClaim", "Secret"}


def test_role_defaults_agree_with_the_argument_specs():
    role = REPO / "roles" / "pushgateway"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    for name, option in options.items():
        assert "type" in option, name
        assert defaults[name] == option.get("default"), name
        assert name.startswith("pushgateway_")
    # Every builder option is a role variable with the same default (except where the role uses "" for unset).
    for name, option in ARGUMENT_SPEC.items():
        role_default = defaults["pushgateway_" + name]
        if option.get("default") is None:
            assert role_default in ("", None), name
        elif name != "persistence":
            assert role_default == option["default"], name


def test_verrazzano_preset_runs_in_verrazzano_monitoring_with_the_release_label():
    result = build(params(preset="verrazzano", instances=[{"name": "first"}]))
    monitor = [m for m in result["manifests"] if m["kind"] == "ServiceMonitor"][0]
    assert monitor["metadata"]["namespace"] == "verrazzano-monitoring"
    assert monitor["metadata"]["labels"]["release"] == "prometheus-operator"
    assert result["workloads"] == [{"name": "first", "namespace": "verrazzano-monitoring", "port": 9091,
                                    "pod_labels": {"app.kubernetes.io/name": "pushgateway",
                                                   "app.kubernetes.io/instance": "first"}}]


def test_verrazzano_preset_refuses_another_release_label():
    with pytest.raises(ValidationError, match="pushgateway_service_monitor_labels.release"):
        build(params(preset="verrazzano", instances=[{"name": "first"}],
                     service_monitor_labels={"release": "kube-prometheus-stack"}))
