"""The benchmark scripts' own logic: fleet inventories, and apply_compare's safety rules.

apply_compare applies objects to a real cluster, so what keeps it inside its
namespaces (cluster-scoped objects left out, relabelling for prune, no pods, no
ingress controller picking up the Ingress) is tested here, without a cluster.
"""

import os
import pathlib
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "bench"))

import apply_compare  # noqa: E402  pylint: disable=wrong-import-position
import fleet_render  # noqa: E402  pylint: disable=wrong-import-position

OWNER_KEY = "prometheus.k8s-monitoring.io/role"


def sample_manifests():
    return [
        {"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig", "metadata": {"name": "prometheus-pushgateway"},
         "spec": {"settings": {"instances": ["first"]}}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "pushgateway", "namespace": "monitoring", "labels": {OWNER_KEY: "pushgateway"}},
         "spec": {"replicas": 2}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
         "metadata": {"name": "prometheus-external", "namespace": "d8-monitoring",
                      "annotations": {"kubernetes.io/ingress.class": "nginx", "keep": "me"}},
         "spec": {"ingressClassName": "nginx"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "basic-auth", "namespace": "d8-monitoring"},
         "data": {"auth": "eA=="}},
    ]


def test_prepare_keeps_the_benchmark_inside_its_namespace():
    manifests = sample_manifests()
    objects, notes = apply_compare.prepare(manifests)
    assert [o["kind"] for o in objects] == ["Deployment", "Ingress", "Secret"]
    assert notes == ["ModuleConfig prometheus-pushgateway: cluster-scoped, left out"]
    for obj in objects:
        assert obj["metadata"]["labels"][OWNER_KEY] == apply_compare.COMPONENT
    deployment, ingress = objects[0], objects[1]
    assert deployment["spec"]["replicas"] == 0
    assert ingress["spec"]["ingressClassName"] == apply_compare.BENCH_INGRESS_CLASS
    assert ingress["metadata"]["annotations"] == {"keep": "me"}
    # The rendered manifests themselves are left as they were.
    assert manifests[1]["spec"]["replicas"] == 2
    assert manifests[1]["metadata"]["labels"][OWNER_KEY] == "pushgateway"
    assert manifests[2]["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "nginx"


def test_objects_move_into_the_method_namespace_and_prune_looks_only_there(tmp_path):
    objects, _notes = apply_compare.prepare(sample_manifests())
    placed = apply_compare.in_namespace(objects, "k8s-monitoring-bench-collection")
    assert {o["metadata"]["namespace"] for o in placed} == {"k8s-monitoring-bench-collection"}
    assert objects[0]["metadata"]["namespace"] == "monitoring"
    playbook = apply_compare.collection_playbook(str(tmp_path), placed, "k8s-monitoring-bench-collection", None, None)
    role_vars = yaml.safe_load(pathlib.Path(playbook).read_text())[0]["tasks"][0]["vars"]
    assert role_vars["manifests_component"] == apply_compare.COMPONENT
    assert role_vars["manifests_prune_namespaces"] == ["k8s-monitoring-bench-collection"]
    assert oct(os.stat(str(tmp_path / "objects.yml")).st_mode & 0o777) == "0o600"


def test_per_object_playbook_has_one_task_per_object_and_hides_secrets(tmp_path):
    objects, _notes = apply_compare.prepare(sample_manifests())
    placed = apply_compare.in_namespace(objects, "ns")
    playbook = apply_compare.per_object_playbook(str(tmp_path), placed, "/k/config", "lab")
    tasks = yaml.safe_load(pathlib.Path(playbook).read_text())[0]["tasks"]
    assert len(tasks) == len(placed)
    assert [bool(t.get("no_log")) for t in tasks] == [o["kind"] == "Secret" for o in placed]
    assert all(t["kubernetes.core.k8s"]["kubeconfig"] == "/k/config" for t in tasks)
    assert all(t["kubernetes.core.k8s"]["server_side_apply"]["field_manager"] == "k8s-monitoring-prometheus"
               for t in tasks)


def test_apply_compare_skips_without_a_reachable_cluster(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    assert apply_compare.main([]) == 0
    assert "skipped: no kubeconfig at {0}".format(tmp_path / "missing") in capsys.readouterr().out

    kubeconfig = tmp_path / "refused.yaml"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
    }))
    assert apply_compare.main(["--kubeconfig", str(kubeconfig)]) == 0
    out = capsys.readouterr().out
    assert "skipped: the cluster of {0} does not answer".format(kubeconfig) in out
    assert "not-a-real-token" not in out


def test_fleet_inventory_cycles_the_example_hosts(tmp_path):
    templates = fleet_render.example_hosts()
    inventory = yaml.safe_load(pathlib.Path(fleet_render.write_inventory(str(tmp_path), 7)).read_text())
    groups = inventory["k8s_clusters"]["children"]
    hosts = sorted(host for body in groups.values() for host in body["hosts"])
    assert len(hosts) == 7
    for index in range(7):
        template, group = templates[index % len(templates)]
        assert "{0}-{1:03d}".format(template, index) in groups[group]["hosts"]
    assert inventory["k8s_clusters"]["vars"]["ansible_connection"] == "local"
    assert (tmp_path / "group_vars").resolve() == (REPO / "inventory" / "example" / "group_vars").resolve()
    host_vars = sorted(p.stem for p in (tmp_path / "host_vars").iterdir())
    assert host_vars == hosts
