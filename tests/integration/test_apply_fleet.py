"""site.yml in apply mode over the example fleet: three clusters, three real API servers.

Each example cluster (Deckhouse, OCNE, kube-prometheus-stack) gets its own
control plane (etcd + kube-apiserver with the real CRDs), and one
`ansible-playbook site.yml -i inventory/example` run applies all three, as a
user runs it for a fleet. Everything is asserted on objects read back from the
API servers: what was applied matches what render mode writes, a re-run and a
run from a fresh controller change nothing, check mode with a changed input
reports the change and writes nothing, `--diff` shows no Secret data, and
`state: absent` removes exactly what the roles made.
"""

import base64
import concurrent.futures
import json
import re

import pytest
import yaml

from tests import control_plane as cp
from tests.integration.conftest import control_plane_crds
from tests.playbook import example_clusters, recap, run_playbook, site_roles

FLEET = tuple(example_clusters())
ROLES = site_roles()
OWNED = "app.kubernetes.io/managed-by=k8s_monitoring.prometheus"
# Every kind a role of the collection writes.
KINDS = (("v1", "Secret"), ("v1", "Service"), ("v1", "PersistentVolumeClaim"), ("apps/v1", "Deployment"),
         ("networking.k8s.io/v1", "Ingress"), ("networking.k8s.io/v1", "NetworkPolicy"),
         ("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PodMonitor"),
         ("security.istio.io/v1", "AuthorizationPolicy"), ("deckhouse.io/v1alpha1", "ModuleConfig"),
         ("monitoring.coreos.com/v1", "PrometheusRule"), ("deckhouse.io/v1", "CustomPrometheusRules"),
         ("v1", "ConfigMap"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
         ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"), ("gateway.networking.k8s.io/v1", "BackendTLSPolicy"),
         ("gateway.envoyproxy.io/v1alpha1", "SecurityPolicy"))
# Made by hand before the roles run: none of them may be touched.
BYSTANDERS = {
    "kps-staging": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "hand-made", "namespace": "monitoring",
                                 "labels": {"app.kubernetes.io/managed-by": "someone-else"}},
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    "ocne-lab": {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                 "metadata": {"name": "hand-made", "namespace": "verrazzano-monitoring"},
                 "spec": {"selector": {}, "endpoints": [{"port": "web"}]}},
    "kps-gateway": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                    "metadata": {"name": "hand-made", "namespace": "monitoring"},
                    "spec": {"parentRefs": [{"name": "public", "namespace": "envoy-gateway-system"}],
                             "rules": [{"backendRefs": [{"name": "grafana", "port": 80}]}]}},
    "deckhouse-prod": {"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "hand-made", "namespace": "d8-monitoring"},
                       "data": {"auth": base64.b64encode(b"someone:else").decode()}},
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """{cluster: ControlPlane}, started side by side."""
    crds = control_plane_crds()
    planes = {name: cp.ControlPlane(tmp_path_factory.mktemp(name)) for name in FLEET}
    try:
        with concurrent.futures.ThreadPoolExecutor(len(planes)) as pool:
            for future in [pool.submit(plane.start, crds, cp.EXAMPLE_NAMESPACES)
                           for plane in planes.values()]:
                future.result()
        for name, plane in planes.items():
            plane.apply(BYSTANDERS[name])
        yield planes
    finally:
        for plane in planes.values():
            plane.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fleet-controller")


def site(fleet, workdir, *args, controller="first", env=None, check=True, **extra):
    """site.yml over the example inventory, each cluster's kubeconfig pointing at its control plane."""
    base = workdir / controller
    extra_vars = {
        "k8s_monitoring_mode": "apply",
        "test_kubeconfigs": {name: str(plane.kubeconfigs["admin"]) for name, plane in fleet.items()},
        "k8s_monitoring_kubeconfig": "{{ test_kubeconfigs[inventory_hostname] }}",
        "prometheus_external_access_password_dir": str(base / "credentials") + "/{{ inventory_hostname }}",
        "prometheus_external_access_grafana_datasource_file": str(base / "outside") + "/{{ inventory_hostname }}/grafana.yaml",
        "prometheus_external_access_federation_file": str(base / "outside") + "/{{ inventory_hostname }}/federation.yaml",
    }
    extra_vars.update(extra)
    (base / "home").mkdir(parents=True, exist_ok=True)
    environment = {"HOME": str(base / "home"), "ANSIBLE_LOCAL_TEMP": str(base / "tmp")}
    environment.update(env or {})
    return run_playbook("site.yml", "-i", "inventory/example", *args, extra_vars=extra_vars, env=environment,
                        check=check)


def changed_tasks(output):
    """{task name: [hosts]} of the tasks that reported a change."""
    changed, task = {}, None
    for line in output.splitlines():
        match = re.match(r"TASK \[(.*)\] \*+$", line)
        if match:
            task = match.group(1)
        match = re.match(r"changed: \[([^\]]+)\]", line)
        if match:
            changed.setdefault(task, []).append(match.group(1))
    return changed


def live_objects(plane, selector=OWNED):
    objects = {}
    for api_version, kind in KINDS:
        for obj in plane.list(api_version, kind, label_selector=selector):
            objects[(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = obj
    return objects


def changed_objects(before, after):
    """{cluster: [keys whose resourceVersion differs, or that appeared or went]}: empty when nothing was written."""
    return {name: sorted(set(before[name].items()) ^ set(after[name].items())) for name in before
            if before[name] != after[name]}


def version(obj):
    """The resourceVersion, which changes with every write.

    Except for a PersistentVolumeClaim: kube-apiserver writes a new resourceVersion
    for a no-op server-side apply of a PVC although nothing in the object changes
    (`kubectl apply --server-side` twice shows it too; kubernetes/kubernetes#121404).
    For a PVC, the whole object but its resourceVersion is compared instead.
    """
    if obj["kind"] != "PersistentVolumeClaim":
        return obj["metadata"]["resourceVersion"]
    return json.dumps(dict(obj, metadata={k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}),
                      sort_keys=True)


def versions(fleet):
    return {name: {key: version(obj) for key, obj in live_objects(plane).items()} for name, plane in fleet.items()}


def rendered_objects(root):
    objects = {}
    for path in sorted(root.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        obj = yaml.safe_load(path.read_text())
        objects[(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = obj
    return objects


def assert_contained(expected, live, where):
    """Every field of ``expected`` is in ``live`` with the same value (the server adds defaults)."""
    if isinstance(expected, dict):
        assert isinstance(live, dict), where
        for key, value in expected.items():
            assert key in live, "{0}.{1} missing".format(where, key)
            assert_contained(value, live[key], "{0}.{1}".format(where, key))
    elif isinstance(expected, list):
        assert isinstance(live, list) and len(live) == len(expected), where
        for index, (want, have) in enumerate(zip(expected, live)):
            assert_contained(want, have, "{0}[{1}]".format(where, index))
    else:
        assert expected == live, "{0}: {1!r} != {2!r}".format(where, expected, live)


def secrets_in(fleet, workdir):
    """Every password and hash a run could leak: generated password files and the live Secrets' data."""
    found = set()
    for path in workdir.rglob("credentials/*/*/*"):
        found.add(path.read_text().strip())
    for plane in fleet.values():
        for obj in plane.list("v1", "Secret", label_selector=OWNED):
            for value in (obj.get("data") or {}).values():
                text = base64.b64decode(value).decode()
                found.add(value)
                for line in text.splitlines():
                    found.add(line.partition(":")[2] or line)
    return {s for s in found if len(s) >= 8}


@pytest.fixture(scope="module")
def converged(fleet, workdir):
    result = site(fleet, workdir)
    return result


def test_every_cluster_converges_with_what_render_mode_writes(fleet, workdir, converged, tmp_path):
    hosts = recap(converged.stdout)
    assert sorted(hosts) == sorted(FLEET)
    assert all(h["failed"] == 0 and h["changed"] > 0 for h in hosts.values())
    run_playbook("site.yml", "-i", "inventory/example", extra_vars={
        "k8s_monitoring_mode": "render", "k8s_monitoring_render_dir": str(tmp_path) + "/{{ inventory_hostname }}",
        "prometheus_external_access_password_dir": str(workdir / "first" / "credentials") + "/{{ inventory_hostname }}",
        "prometheus_external_access_grafana_datasource_file": str(tmp_path / "outside") + "/{{ inventory_hostname }}/g.yaml",
        "prometheus_external_access_federation_file": str(tmp_path / "outside") + "/{{ inventory_hostname }}/f.yaml",
    })
    for name, plane in fleet.items():
        live = live_objects(plane)
        expected = rendered_objects(tmp_path / name)
        # Apply mode also keeps the generated passwords in the cluster (never rendered).
        extra = {key for key in live if key[0] == "Secret" and key[2].endswith("-generated")}
        assert set(live) - extra == set(expected), name
        for key, want in expected.items():
            have = live[key]
            where = "{0}: {1} {2}/{3}".format(name, *key)
            assert_contained(want["metadata"].get("labels", {}), have["metadata"].get("labels", {}), where + " labels")
            assert_contained(want["metadata"].get("annotations", {}), have["metadata"].get("annotations", {}),
                             where + " annotations")
            if key[0] == "Secret":  # hashes are salted: the same users, not the same bytes
                if "stringData" in want:  # stored as data
                    assert {k: base64.b64decode(v).decode() for k, v in have["data"].items()} == want["stringData"], where
                    continue
                assert sorted(want["data"]) == sorted(have["data"]), where
                if "auth" in want["data"]:
                    users = [line.partition(":")[0] for line in base64.b64decode(have["data"]["auth"]).decode().splitlines()]
                    assert users == [line.partition(":")[0] for line in
                                     base64.b64decode(want["data"]["auth"]).decode().splitlines()], where
            else:
                assert_contained({k: v for k, v in want.items() if k not in ("metadata", "apiVersion", "kind")},
                                 have, where)
        assert plane.get(BYSTANDERS[name]["apiVersion"], BYSTANDERS[name]["kind"], "hand-made",
                         BYSTANDERS[name]["metadata"]["namespace"])
    # The fields that matter, spelled out once per platform.
    kps = live_objects(fleet["kps-staging"])
    ingress = kps[("Ingress", "monitoring", "prometheus-external")]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"] == "prometheus-external-basic-auth"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/allowlist-source-range"] == "192.0.2.0/24"
    assert kps[("Deployment", "monitoring", "pushgateway")]["spec"]["template"]["spec"]["containers"][0]["ports"][0][
        "containerPort"] == 9091
    config = live_objects(fleet["deckhouse-prod"])[("ModuleConfig", "", "prometheus-pushgateway")]
    assert config["spec"]["settings"]["instances"] == ["batch-jobs", "ci-pipelines"]
    policy = live_objects(fleet["ocne-lab"])[("AuthorizationPolicy", "verrazzano-monitoring", "prometheus-allow-clients")]
    assert policy["spec"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/verrazzano-system/sa/verrazzano-authproxy"]


def test_a_rerun_changes_nothing(fleet, workdir, converged):
    before = versions(fleet)
    result = site(fleet, workdir)
    assert {name: h["changed"] for name, h in recap(result.stdout).items()} == {name: 0 for name in FLEET}
    assert changed_objects(before, versions(fleet)) == {}


def test_check_mode_reports_a_change_and_writes_nothing_and_diff_shows_no_secret(fleet, workdir, converged):
    before = versions(fleet)
    result = site(fleet, workdir, "--check", "--diff",
                  pushgateway_scrape_interval="45s",
                  pushgateway_node_selector={"node-role.kubernetes.io/monitoring": "true"},
                  network_policies_api_server_cidrs=["10.30.0.0/28"])
    (workdir / "check-diff.log").write_text(result.stdout)
    hosts = recap(result.stdout)
    # kps-gateway runs only prometheus_external_access, which these variables do not touch.
    assert all(hosts[name]["changed"] > 0 and hosts[name]["failed"] == 0 for name in FLEET if name != "kps-gateway")
    assert hosts["kps-gateway"]["changed"] == 0 and hosts["kps-gateway"]["failed"] == 0, hosts
    assert changed_objects(before, versions(fleet)) == {}
    # kps and OCNE: the ServiceMonitor interval and the Deployment; Deckhouse: the ModuleConfig.
    assert re.search(r"^\+\s+interval: 45s$", result.stdout, re.M)
    assert "--- before: ModuleConfig prometheus-pushgateway" in result.stdout
    assert len(re.findall(r"^\+\s+node-role.kubernetes.io/monitoring: 'true'$", result.stdout, re.M)) >= 4
    assert "--- before: ServiceMonitor monitoring/pushgateway" in result.stdout
    leaked = [s for s in secrets_in(fleet, workdir) if s in result.stdout]
    assert leaked == []


def test_a_fresh_controller_changes_nothing_and_rotates_no_password(fleet, workdir, converged):
    """An AWX job in a new container: new HOME, empty password directory, no build/ folder."""
    before = versions(fleet)
    hashes = {name: plane.get("v1", "Secret", "prometheus-external-basic-auth",
                              {"deckhouse-prod": "d8-monitoring"}.get(name, "monitoring"))
              for name, plane in fleet.items() if name != "ocne-lab"}
    result = site(fleet, workdir, controller="fresh")
    # Only the controller's own files are new: the Grafana data source and federation job.
    assert list(changed_tasks(result.stdout)) == [
        "k8s_monitoring.prometheus.prometheus_external_access : Write the Grafana data source "
        "(password as a reference only) and the federation job"]
    assert changed_objects(before, versions(fleet)) == {}
    for name, secret in hashes.items():
        assert fleet[name].get("v1", "Secret", secret["metadata"]["name"],
                               secret["metadata"]["namespace"])["data"] == secret["data"]
    assert not (workdir / "fresh" / "credentials").exists()


def test_state_absent_removes_what_the_roles_made_and_nothing_else(fleet, workdir, converged):
    others = {name: {key: obj["metadata"]["resourceVersion"]
                     for key, obj in live_objects(plane, selector="!app.kubernetes.io/managed-by").items()}
              for name, plane in fleet.items()}
    result = site(fleet, workdir, **{role + "_state": "absent" for role in ROLES})
    assert all(h["failed"] == 0 for h in recap(result.stdout).values())
    for name, plane in fleet.items():
        assert live_objects(plane) == {}, name
        assert {key: obj["metadata"]["resourceVersion"]
                for key, obj in live_objects(plane, selector="!app.kubernetes.io/managed-by").items()} == others[name]
        bystander = BYSTANDERS[name]
        assert plane.get(bystander["apiVersion"], bystander["kind"], "hand-made", bystander["metadata"]["namespace"])
    # And back: a converge after absent recreates everything.
    again = site(fleet, workdir)
    assert all(h["changed"] > 0 for h in recap(again.stdout).values())


def test_the_outside_files_and_credentials_stay_on_the_controller(workdir, converged):
    for name in ("kps-staging", "deckhouse-prod"):
        datasource = yaml.safe_load((workdir / "first" / "outside" / name / "grafana.yaml").read_text())
        assert datasource["datasources"][0]["basicAuth"] is True
        for path in (workdir / "first" / "credentials" / name).rglob("*"):
            if path.is_file():
                assert oct(path.stat().st_mode & 0o777) == "0o600"
