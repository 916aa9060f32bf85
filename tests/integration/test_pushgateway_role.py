"""The pushgateway role through ansible-playbook in render mode: two clusters, one per preset.

The objects are validated against the real schemas (kubernetes-validate --strict
and the CRDs in ../shared/crds); apply mode runs on a real API server in
test_apply_fleet.py and test_apply_roles.py.
"""

import json
import os
import stat

import pytest
import yaml

from tests.playbook import REPO, recap, run_playbook
from tests.unit.test_pushgateway_build import BCRYPT, settings_schema, validate_module_config
from tests.schema import validate_manifest

import jsonschema

PLAYBOOK = """
- name: Pushgateway role
  hosts: all
  connection: local
  gather_facts: false
  roles:
    - role: k8s_monitoring.prometheus.pushgateway
"""


def inventory(tmp_path, deckhouse_instances, plain_instances, state="present", extra=None):
    hosts = {
        "dh": {"pushgateway_preset": "deckhouse", "pushgateway_instances": [{"name": n} for n in deckhouse_instances]},
        "kps": {"pushgateway_preset": "plain", "pushgateway_namespace": "monitoring",
                "pushgateway_instances": plain_instances,
                "pushgateway_service_monitor_labels": {"release": "kube-prometheus-stack"},
                "pushgateway_basic_auth_users": [{"username": "pusher", "password_hash": BCRYPT}],
                "pushgateway_scrape_basic_auth_secret": "pushgateway-scrape"},
    }
    for name, host in hosts.items():
        host.update(ansible_connection="local", pushgateway_state=state,
                    k8s_monitoring_mode="render", k8s_monitoring_render_dir=str(tmp_path / "out" / name))
        host.update(extra or {})
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return path


@pytest.fixture()
def play(tmp_path):
    path = tmp_path / "play.yml"
    path.write_text(PLAYBOOK)
    return path


def rendered(tmp_path, host):
    directory = tmp_path / "out" / host / "pushgateway"
    if not directory.is_dir():
        return {}
    return dict((p.name, p) for p in directory.iterdir() if p.name != "kustomization.yaml")


def snapshot(tmp_path):
    return dict((str(p), p.read_text()) for p in (tmp_path / "out").rglob("*.yaml"))


PLAIN = [{"name": "batch", "persistence": {"enabled": True}}, {"name": "adhoc", "honor_labels": False}]


def test_render_is_valid_idempotent_and_check_mode_writes_nothing(tmp_path, play):
    hosts = inventory(tmp_path, ["first", "second"], PLAIN)
    first = run_playbook(play, "-i", str(hosts))
    assert recap(first.stdout)["dh"]["changed"] >= 1 and recap(first.stdout)["kps"]["changed"] >= 1
    assert "http://first.kube-prometheus-pushgateway:9091" in first.stdout
    assert "https://" not in first.stdout and "http://batch.monitoring.svc:9091" in first.stdout

    dh = rendered(tmp_path, "dh")
    assert sorted(dh) == ["cluster.moduleconfig.prometheus-pushgateway.yaml"]
    config = yaml.safe_load(dh["cluster.moduleconfig.prometheus-pushgateway.yaml"].read_text())
    assert config["spec"]["settings"]["instances"] == ["first", "second"]
    validate_module_config(config)
    jsonschema.Draft7Validator(settings_schema()).validate(config["spec"]["settings"])

    kps = rendered(tmp_path, "kps")
    assert sorted(kps) == sorted([
        "monitoring.secret.batch-web-config.yaml", "monitoring.persistentvolumeclaim.batch-data.yaml",
        "monitoring.deployment.batch.yaml", "monitoring.service.batch.yaml", "monitoring.servicemonitor.batch.yaml",
        "monitoring.secret.adhoc-web-config.yaml", "monitoring.deployment.adhoc.yaml", "monitoring.service.adhoc.yaml",
        "monitoring.servicemonitor.adhoc.yaml"])
    for path in kps.values():
        validate_manifest(yaml.safe_load(path.read_text()))
    secret = kps["monitoring.secret.batch-web-config.yaml"]
    assert stat.S_IMODE(os.stat(str(secret)).st_mode) == 0o600
    assert BCRYPT in secret.read_text()
    assert BCRYPT not in first.stdout  # Secret contents stay out of the log and diff
    monitor = yaml.safe_load(kps["monitoring.servicemonitor.adhoc.yaml"].read_text())
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is False
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"

    before = snapshot(tmp_path)
    second = run_playbook(play, "-i", str(hosts))
    assert recap(second.stdout)["dh"]["changed"] == 0 and recap(second.stdout)["kps"]["changed"] == 0
    assert snapshot(tmp_path) == before

    # Check mode: removing an instance is predicted but nothing is written.
    smaller = inventory(tmp_path, ["first"], PLAIN[:1])
    checked = run_playbook(play, "-i", str(smaller), "--check", "--diff")
    assert recap(checked.stdout)["dh"]["changed"] >= 1 and recap(checked.stdout)["kps"]["changed"] >= 1
    assert snapshot(tmp_path) == before
    assert BCRYPT not in checked.stdout

    # For real: the instance goes from the Deckhouse list and the plain objects of `adhoc` go away.
    run_playbook(play, "-i", str(smaller))
    config = yaml.safe_load(rendered(tmp_path, "dh")["cluster.moduleconfig.prometheus-pushgateway.yaml"].read_text())
    assert config["spec"]["settings"]["instances"] == ["first"]
    assert not any("adhoc" in name for name in rendered(tmp_path, "kps"))

    # state absent removes everything the role made.
    gone = run_playbook(play, "-i", str(inventory(tmp_path, [], [], state="absent")))
    assert recap(gone.stdout)["dh"]["changed"] >= 1
    assert rendered(tmp_path, "dh") == {} and rendered(tmp_path, "kps") == {}


def test_bad_input_fails_naming_the_variable_before_anything_is_written(tmp_path, play):
    hosts = inventory(tmp_path, ["Bad_Name"], [{"name": "ok", "persistence": {"enabled": True, "size": "lots"}}])
    result = run_playbook(play, "-i", str(hosts), check=False)
    assert result.returncode != 0
    assert "pushgateway_instances[0].name" in result.stdout
    assert "pushgateway_instances[0].persistence.size" in result.stdout
    assert not (tmp_path / "out").exists()


def test_example_inventory_group_vars_render(tmp_path, play):
    """The example group_vars switch the role on and render without a cluster."""
    examples = REPO / "inventory" / "example" / "group_vars"
    hosts = {}
    for group in ("platform_deckhouse", "platform_ocne", "platform_kube_prometheus_stack"):
        path = examples / group / "pushgateway.yml"
        assert path.exists(), path
        variables = yaml.safe_load(path.read_text())
        assert variables["pushgateway_enabled"] is True
        variables.update(ansible_connection="local", k8s_monitoring_mode="render",
                         k8s_monitoring_render_dir=str(tmp_path / "out" / group))
        hosts[group] = variables
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {"hosts": hosts}}))
    run_playbook(play, "-i", str(tmp_path / "hosts.yml"))
    for group in hosts:
        for path in rendered(tmp_path, group).values():
            manifest = yaml.safe_load(path.read_text())
            if manifest["kind"] == "ModuleConfig":
                validate_module_config(manifest)
            else:
                validate_manifest(manifest)
