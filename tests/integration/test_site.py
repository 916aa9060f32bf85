"""site.yml end to end in render mode: the `make run` path, and how users invoke it."""

import os
import pathlib

import pytest
import yaml

from tests.playbook import REPO, example_clusters, recap, run_playbook, site_roles
from tests.schema import require_crds_dir, validate_rendered_tree

CLUSTERS = example_clusters()
ROLES = site_roles()


def render_site(out, *args):
    return run_playbook("site.yml", "-i", "inventory/example", *args,
                        extra_vars={"k8s_monitoring_mode": "render",
                                    "k8s_monitoring_render_dir": str(out) + "/{{ inventory_hostname }}"})


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("rendered")
    first = render_site(out)
    return out, first


def snapshot(root):
    return dict((str(p), (p.read_bytes(), p.stat().st_mtime_ns)) for p in sorted(pathlib.Path(root).rglob("*")) if p.is_file())


def test_every_example_cluster_is_rendered(rendered):
    out, result = rendered
    assert sorted(recap(result.stdout)) == CLUSTERS
    for cluster in CLUSTERS:
        top = yaml.safe_load((out / cluster / "kustomization.yaml").read_text())
        assert top["resources"], cluster
        for role in top["resources"]:
            assert role in ROLES
            listed = yaml.safe_load((out / cluster / role / "kustomization.yaml").read_text())["resources"]
            assert sorted(listed) == sorted(p.name for p in (out / cluster / role).glob("*.yaml")
                                            if p.name != "kustomization.yaml")


def test_every_role_is_exercised_by_the_example_inventory(rendered):
    out, _unused = rendered
    seen = set()
    for cluster in CLUSTERS:
        seen.update(yaml.safe_load((out / cluster / "kustomization.yaml").read_text())["resources"])
    assert seen == set(ROLES)


def test_rendered_manifests_are_schema_valid(rendered):
    require_crds_dir()
    out, _unused = rendered
    assert validate_rendered_tree(out) > 10


def test_second_render_changes_nothing(rendered):
    out, _unused = rendered
    before = snapshot(out)
    second = render_site(out)
    assert all(counts["changed"] == 0 for counts in recap(second.stdout).values()), second.stdout
    assert snapshot(out) == before


def test_check_mode_writes_nothing(tmp_path):
    result = render_site(tmp_path, "--check")
    assert any(counts["changed"] > 0 for counts in recap(result.stdout).values())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_without_inventory_the_play_targets_localhost():
    result = run_playbook("site.yml", "--list-hosts")
    assert "hosts (1):" in result.stdout and "localhost" in result.stdout


def test_with_the_example_inventory_the_play_targets_the_clusters():
    result = run_playbook("site.yml", "-i", "inventory/example", "--list-hosts")
    assert "hosts ({0}):".format(len(CLUSTERS)) in result.stdout
    assert all(cluster in result.stdout for cluster in CLUSTERS)


def test_installed_playbook_name_resolves():
    result = run_playbook("k8s_monitoring.prometheus.site", "-i", str(REPO / "inventory" / "example"), "--list-hosts",
                          cwd=REPO / "tests")
    assert "hosts ({0}):".format(len(CLUSTERS)) in result.stdout


def test_each_role_is_tagged_with_its_name():
    result = run_playbook("site.yml", "-i", "inventory/example", "--list-tags")
    for role in ROLES:
        assert role in result.stdout


def test_tags_select_one_role(tmp_path):
    render_site(tmp_path, "--tags", "istio_metrics")
    rendered_roles = set(p.parent.name for p in tmp_path.rglob("*/*/kustomization.yaml"))
    assert rendered_roles == {"istio_metrics"}


def test_no_kubeconfig_is_needed_to_render(tmp_path):
    env_home = tmp_path / "home"
    env_home.mkdir()
    result = run_playbook("site.yml", "-i", "inventory/example",
                          extra_vars={"k8s_monitoring_mode": "render",
                                      "k8s_monitoring_render_dir": str(tmp_path / "out") + "/{{ inventory_hostname }}"},
                          env={"HOME": str(env_home), "KUBECONFIG": str(tmp_path / "none")})
    assert result.returncode == 0
    assert not os.path.exists(env_home / ".kube")
