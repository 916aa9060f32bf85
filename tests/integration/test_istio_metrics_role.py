"""The istio_metrics role through ansible-playbook: render mode, idempotency, check mode,
removal, rejection of bad input, and apply mode up to the point where a cluster is needed."""

import json
import pathlib
import sys

import pytest
import yaml

from tests.playbook import recap, run_playbook
from tests.schema import require_crds_dir
from tests.unit.test_istio_metrics import validate

PLAY = """
- name: Run istio_metrics
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Include the role
      ansible.builtin.include_role:
        name: k8s_monitoring.prometheus.istio_metrics
"""


@pytest.fixture()
def playbook(tmp_path):
    path = tmp_path / "play.yml"
    path.write_text(PLAY)
    return path


def run(playbook, render_dir, *args, check=True, **extra):
    extra_vars = {"k8s_monitoring_mode": "render", "k8s_monitoring_render_dir": str(render_dir),
                  "ansible_python_interpreter": sys.executable}
    extra_vars.update(extra)
    return run_playbook(playbook, "-i", "localhost,", *args, extra_vars=extra_vars, check=check)


def files(render_dir):
    return dict((str(p.relative_to(render_dir)), p.read_text())
                for p in sorted(pathlib.Path(render_dir).rglob("*")) if p.is_file())


def test_render_is_idempotent_and_valid(playbook, tmp_path):
    require_crds_dir()
    out = tmp_path / "out"
    first = run(playbook, out, istio_metrics_preset="verrazzano", istio_metrics_istiod_service_monitor_enabled=True)
    assert recap(first.stdout)["localhost"]["changed"] == 1
    rendered = files(out)
    assert sorted(rendered) == [
        "istio_metrics/kustomization.yaml",
        "istio_metrics/verrazzano-monitoring.authorizationpolicy.prometheus-allow-clients.yaml",
        "istio_metrics/verrazzano-monitoring.podmonitor.envoy-stats.yaml",
        "istio_metrics/verrazzano-monitoring.servicemonitor.istiod.yaml",
        "kustomization.yaml",
    ]
    policy_file = "istio_metrics/verrazzano-monitoring.authorizationpolicy.prometheus-allow-clients.yaml"
    policy = yaml.safe_load(rendered[policy_file])
    assert policy["spec"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/verrazzano-system/sa/verrazzano-authproxy"]
    for name, text in rendered.items():
        if not name.endswith("kustomization.yaml"):
            validate(yaml.safe_load(text))

    second = run(playbook, out, istio_metrics_preset="verrazzano", istio_metrics_istiod_service_monitor_enabled=True)
    assert recap(second.stdout)["localhost"]["changed"] == 0
    assert files(out) == rendered


def test_check_mode_writes_nothing_and_reports_the_change(playbook, tmp_path):
    out = tmp_path / "out"
    result = run(playbook, out, "--check", "--diff", istio_metrics_preset="verrazzano")
    assert recap(result.stdout)["localhost"]["changed"] == 1
    assert "cluster.local/ns/verrazzano-system/sa/verrazzano-authproxy" in result.stdout  # the diff
    assert not out.exists()


def test_switching_off_and_absent_remove_the_files(playbook, tmp_path):
    out = tmp_path / "out"
    run(playbook, out, istio_metrics_preset="verrazzano")
    run(playbook, out, istio_metrics_preset="verrazzano", istio_metrics_pod_monitor_enabled=False)
    assert sorted(files(out)) == [
        "istio_metrics/kustomization.yaml",
        "istio_metrics/verrazzano-monitoring.authorizationpolicy.prometheus-allow-clients.yaml",
        "kustomization.yaml",
    ]
    # Pruning is per instance (by default the Prometheus namespace): absent without the preset is another one.
    other = run(playbook, out, istio_metrics_state="absent")
    assert recap(other.stdout)["localhost"]["changed"] == 0 and len(files(out)) == 3
    result = run(playbook, out, istio_metrics_preset="verrazzano", istio_metrics_state="absent")
    assert recap(result.stdout)["localhost"]["changed"] == 1
    assert files(out) == {}


REJECTIONS = {
    "no_clients": {},
    "bad_client": {"istio_metrics_clients": [{"namespace": "Grafana", "service_account": "grafana"}]},
    "wrong_type": {"istio_metrics_ports": ["http"]},
}


def test_bad_input_fails_naming_the_variable_before_anything_is_written(tmp_path):
    """Each case runs the role in a block and records the error (one ansible-playbook run for all)."""
    out = tmp_path / "out"
    errors = tmp_path / "errors.json"
    tasks = []
    for case, variables in REJECTIONS.items():
        tasks.append({
            "name": "Case " + case,
            "block": [{"name": "Run the role", "ansible.builtin.include_role": {
                "name": "k8s_monitoring.prometheus.istio_metrics"}, "vars": variables}],
            "rescue": [{"name": "Record the error", "ansible.builtin.set_fact": {
                "errors": "{{ errors | combine({'%s': ansible_failed_result.msg}) }}" % case}}],
        })
    tasks.append({"name": "Write the errors", "ansible.builtin.copy": {
        "content": "{{ errors | to_json }}", "dest": str(errors), "mode": "0644"}})
    play = tmp_path / "reject.yml"
    play.write_text(yaml.safe_dump([{"name": "Reject", "hosts": "localhost", "connection": "local",
                                     "gather_facts": False, "vars": {"errors": {}}, "tasks": tasks}]))
    run(play, out)
    messages = json.loads(errors.read_text())
    assert sorted(messages) == sorted(REJECTIONS)
    assert messages["no_clients"].startswith("istio_metrics_clients: give at least one client")
    assert messages["bad_client"].startswith("istio_metrics_clients[0].namespace: expected a Kubernetes name")
    assert "istio_metrics_ports" in messages["wrong_type"]
    assert not out.exists()


def test_apply_mode_stops_at_the_cluster_preflight_without_a_cluster(playbook, tmp_path):
    """Apply mode as far as it goes without an API server (none on this machine).

    The Prometheus read fails and is reported as skipped; then the manifests role's
    preflight stops with a message naming the missing kubeconfig. Applying, the
    selector warning against a live Prometheus and pruning need a real cluster
    (molecule/kind) and are not run here.
    """
    missing = tmp_path / "no-such-kubeconfig"
    result = run(playbook, tmp_path / "out", check=False, k8s_monitoring_mode="apply",
                 k8s_monitoring_kubeconfig=str(missing), istio_metrics_preset="verrazzano")
    assert result.returncode != 0
    assert "No Prometheus resource to compare with (Could not find or access" in result.stdout
    assert "The kubeconfig file {0} does not exist".format(missing) in result.stdout
    assert recap(result.stdout)["localhost"]["changed"] == 0


def test_example_inventory_renders_for_ocne_only(tmp_path):
    """The example fleet (`make run`), limited to this role: only the OCNE cluster gets objects."""
    require_crds_dir()
    out = tmp_path / "rendered"
    result = run_playbook("site.yml", "-i", "inventory/example", "--tags", "istio_metrics", extra_vars={
        "k8s_monitoring_mode": "render", "k8s_monitoring_render_dir": str(out) + "/{{ inventory_hostname }}"})
    assert recap(result.stdout)["ocne-lab"]["changed"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["ocne-lab"]
    objects = [yaml.safe_load(p.read_text()) for p in sorted((out / "ocne-lab" / "istio_metrics").glob("*.yaml"))
               if p.name != "kustomization.yaml"]
    assert sorted(o["kind"] for o in objects) == ["AuthorizationPolicy", "PodMonitor", "ServiceMonitor"]
    for manifest in objects:
        assert manifest["metadata"]["namespace"] == "verrazzano-monitoring"
        validate(manifest)


def test_selector_warning_reaches_the_play_output(tmp_path):
    """The comparison step of the apply-mode preflight, fed with a Prometheus resource as
    kubernetes.core.k8s_info returns it (read from a cluster, which this machine lacks)."""
    prometheus = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
                  "metadata": {"name": "prometheus-operator-kube-p-prometheus", "namespace": "verrazzano-monitoring"},
                  "spec": {"podMonitorSelector": {"matchLabels": {"release": "kube-prometheus-stack"}},
                           "podMonitorNamespaceSelector": {}}}
    play = tmp_path / "warn.yml"
    play.write_text(yaml.safe_dump([{
        "name": "Compare", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [{"name": "Build with the live Prometheus resources",
                   "k8s_monitoring.prometheus.istio_metrics_build": {
                       "preset": "verrazzano", "prometheus_resources": [prometheus],
                       "namespace_labels": {"kubernetes.io/metadata.name": "verrazzano-monitoring"}}}],
    }]))
    result = run_playbook(play, "-i", "localhost,")
    output = " ".join(result.stdout.split())
    assert "No Prometheus in the cluster would pick up PodMonitor verrazzano-monitoring/envoy-stats" in output
    assert "release=kube-prometheus-stack" in output
