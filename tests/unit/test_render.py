import os
import stat

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership, render

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "monitoring"},
             "data": {"script": "line1\nline2\n"}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "auth", "namespace": "monitoring"},
          "type": "Opaque", "data": {"auth": "Zm9vOiRhcHIxJE9GRzNYeWJwJGNrTDBGSERBa29YWUlsSDkuY3lzVDA="}}
MODULECONFIG = {"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
                "metadata": {"name": "prometheus-pushgateway"}, "spec": {"enabled": True, "version": 1}}


def read(path):
    with open(path) as handle:
        return handle.read()


def test_layout_one_file_per_object_and_kustomizations(tmp_path):
    result = render.render(str(tmp_path), "demo", [CONFIGMAP, MODULECONFIG])
    assert result["changed"]
    assert sorted(os.listdir(tmp_path / "demo")) == [
        "cluster.moduleconfig.prometheus-pushgateway.yaml", "kustomization.yaml", "monitoring.configmap.a.yaml"]
    kustomization = yaml.safe_load(read(tmp_path / "demo" / "kustomization.yaml"))
    # Sorted, not in the order given: the same files give the same kustomization.
    assert kustomization["resources"] == ["cluster.moduleconfig.prometheus-pushgateway.yaml",
                                          "monitoring.configmap.a.yaml"]
    assert yaml.safe_load(read(tmp_path / "kustomization.yaml"))["resources"] == ["demo"]
    assert yaml.safe_load(read(tmp_path / "demo" / "monitoring.configmap.a.yaml")) == CONFIGMAP


def test_rerender_changes_nothing_and_keeps_mtime(tmp_path):
    render.render(str(tmp_path), "demo", [CONFIGMAP])
    path = tmp_path / "demo" / "monitoring.configmap.a.yaml"
    before = os.stat(path).st_mtime_ns
    result = render.render(str(tmp_path), "demo", [CONFIGMAP])
    assert not result["changed"] and result["written"] == [] and result["removed"] == []
    assert os.stat(path).st_mtime_ns == before


def test_output_is_deterministic_across_dict_order(tmp_path):
    reordered = {"kind": "ConfigMap", "apiVersion": "v1", "data": CONFIGMAP["data"], "metadata": CONFIGMAP["metadata"]}
    assert render.plan_component([CONFIGMAP]) == render.plan_component([CONFIGMAP])
    assert render.to_yaml(CONFIGMAP) != ""
    assert yaml.safe_load(render.to_yaml(reordered)) == CONFIGMAP


def test_dropped_object_is_removed(tmp_path):
    render.render(str(tmp_path), "demo", [CONFIGMAP, MODULECONFIG])
    result = render.render(str(tmp_path), "demo", [CONFIGMAP])
    assert result["removed"] == [str(tmp_path / "demo" / "cluster.moduleconfig.prometheus-pushgateway.yaml")]
    assert not (tmp_path / "demo" / "cluster.moduleconfig.prometheus-pushgateway.yaml").exists()


def test_secret_is_private_and_hidden_from_diff(tmp_path):
    result = render.render(str(tmp_path), "demo", [SECRET])
    path = tmp_path / "demo" / "monitoring.secret.auth.yaml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert all(SECRET["data"]["auth"] not in d["after"] and SECRET["data"]["auth"] not in d["before"]
               for d in result["diff"])
    changed = dict(SECRET, data={"auth": "b3RoZXI="})
    result = render.render(str(tmp_path), "demo", [changed])
    assert result["changed"]
    assert all("b3RoZXI=" not in d["after"] and SECRET["data"]["auth"] not in d["before"] for d in result["diff"])


def test_check_mode_writes_nothing(tmp_path):
    result = render.render(str(tmp_path), "demo", [CONFIGMAP], check_mode=True)
    assert result["changed"] and result["written"]
    assert not (tmp_path / "demo").exists()


def test_absent_removes_role_dir_and_top_entry(tmp_path):
    render.render(str(tmp_path), "one", [CONFIGMAP])
    render.render(str(tmp_path), "two", [MODULECONFIG])
    result = render.render(str(tmp_path), "one", [], state="absent")
    assert result["changed"]
    assert not (tmp_path / "one").exists()
    assert yaml.safe_load(read(tmp_path / "kustomization.yaml"))["resources"] == ["two"]
    render.render(str(tmp_path), "two", [], state="absent")
    assert not (tmp_path / "kustomization.yaml").exists()


def test_two_objects_with_the_same_file_name_are_refused():
    with pytest.raises(ValueError, match="same file"):
        render.plan_component([CONFIGMAP, CONFIGMAP])


def test_multiline_strings_are_literal_blocks():
    assert "script: |\n    line1\n    line2\n" in render.to_yaml(CONFIGMAP)


def instance_of(manifest, namespace, instance):
    labelled = ownership.with_instance([dict(manifest, metadata=dict(manifest["metadata"], namespace=namespace))],
                                       instance)
    return labelled[0]


def test_two_instances_of_a_role_share_its_directory_without_pruning_each_other(tmp_path):
    team_a, team_b = instance_of(CONFIGMAP, "team-a", "team-a"), instance_of(CONFIGMAP, "team-b", "team-b")
    render.render(str(tmp_path), "demo", [team_a], instance="team-a")
    render.render(str(tmp_path), "demo", [team_b], instance="team-b")
    assert sorted(os.listdir(tmp_path / "demo")) == [
        "kustomization.yaml", "team-a.configmap.a.yaml", "team-b.configmap.a.yaml"]
    listed = yaml.safe_load(read(tmp_path / "demo" / "kustomization.yaml"))["resources"]
    assert listed == ["team-a.configmap.a.yaml", "team-b.configmap.a.yaml"]
    # Re-rendering either one changes nothing; absent for team-b removes team-b's file only.
    assert not render.render(str(tmp_path), "demo", [team_a], instance="team-a")["changed"]
    assert not render.render(str(tmp_path), "demo", [team_b], instance="team-b")["changed"]
    render.render(str(tmp_path), "demo", [], state="absent", instance="team-b")
    assert sorted(os.listdir(tmp_path / "demo")) == ["kustomization.yaml", "team-a.configmap.a.yaml"]
    assert yaml.safe_load(read(tmp_path / "kustomization.yaml"))["resources"] == ["demo"]
    render.render(str(tmp_path), "demo", [], state="absent", instance="team-a")
    assert not (tmp_path / "demo").exists()


def test_an_object_of_another_instance_is_never_overwritten(tmp_path):
    render.render(str(tmp_path), "demo", [instance_of(CONFIGMAP, "team-a", "team-a")], instance="team-a")
    with pytest.raises(ValueError, match="another instance"):
        render.render(str(tmp_path), "demo", [instance_of(CONFIGMAP, "team-a", "team-b")], instance="team-b")
