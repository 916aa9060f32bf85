"""Each role in apply mode on a real API server: the behaviours the fleet run does not reach.

Pruning when a component or instance goes, the live-state reads (basic-auth hashes,
the proxy-ssl Secret, the Prometheus selector and pod checks), field ownership,
refused credentials, a missing CRD, and an API server stopped in the middle of a
run. One control plane serves the module (the session's `control_plane` fixture);
each test works in namespaces of its own.
"""

# Variables are passed as **dict(base, name=override): pylint reads the override
# as a second value of the same keyword, which it is not.
# pylint: disable=repeated-keyword

import base64
import threading
import time

import yaml

from tests.playbook import recap, run_playbook

OWNED = "app.kubernetes.io/managed-by=k8s_monitoring.prometheus"


def play(tmp_path, plane, roles, user="admin", tasks_between=None, check=True, extra_args=(), **variables):
    """A play including ``roles`` in order for one host whose kubeconfig is ``plane``'s ``user``."""
    tasks = []
    for index, role in enumerate(roles):
        tasks.append({"name": "Role " + role, "ansible.builtin.include_role": {"name": "k8s_monitoring.prometheus." + role}})
        if tasks_between and index < len(roles) - 1:
            tasks.extend(tasks_between)
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "k8s_monitoring_mode": "apply",
            "k8s_monitoring_kubeconfig": str(plane.kubeconfigs[user]),
            "prometheus_external_access_password_dir": str(tmp_path / "credentials")}
    host.update(variables)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"cluster": host}}}))
    play_text = yaml.safe_dump([{"name": "Roles", "hosts": "all", "gather_facts": False, "tasks": tasks}])
    (tmp_path / "play.yml").write_text(play_text)
    return run_playbook(tmp_path / "play.yml", "-i", str(tmp_path / "hosts.yml"), *extra_args, check=check)


def names(plane, api_version, kind, namespace):
    return sorted(o["metadata"]["name"] for o in plane.list(api_version, kind, namespace, label_selector=OWNED))


def one_line(output):
    return " ".join(output.split())


PUSHGATEWAY = {"pushgateway_preset": "plain", "pushgateway_namespace": "team-restricted",
               "pushgateway_instances": [{"name": "first"}, {"name": "second"}]}


def test_pruning_removes_exactly_what_was_switched_off(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("prune-test")
    hand_made = plane.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"name": "k8s-monitoring-allow-ui-to-grafana", "namespace": "prune-test"},
                             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    variables = {"network_policies_namespace": "prune-test",
                 "pushgateway_preset": "plain", "pushgateway_namespace": "prune-test",
                 "pushgateway_instances": [{"name": "first"}, {"name": "second"}]}
    play(tmp_path, plane, ["pushgateway", "network_policies"], **variables)
    policies = names(plane, "networking.k8s.io/v1", "NetworkPolicy", "prune-test")
    assert "k8s-monitoring-allow-prometheus-to-alertmanager" in policies
    assert names(plane, "apps/v1", "Deployment", "prune-test") == ["first", "second"]
    kept = {n: plane.get("apps/v1", "Deployment", n, "prune-test")["metadata"]["resourceVersion"] for n in ["first"]}

    result = play(tmp_path, plane, ["pushgateway", "network_policies"], **dict(
        variables, pushgateway_instances=[{"name": "first"}], network_policies_components={"alertmanager": False}))
    assert recap(result.stdout)["cluster"]["changed"] > 0
    assert names(plane, "apps/v1", "Deployment", "prune-test") == ["first"]
    assert names(plane, "v1", "Service", "prune-test") == ["first"]
    assert names(plane, "monitoring.coreos.com/v1", "ServiceMonitor", "prune-test") == ["first"]
    assert plane.get("apps/v1", "Deployment", "first", "prune-test")["metadata"]["resourceVersion"] == kept["first"]
    gone = set(policies) - set(names(plane, "networking.k8s.io/v1", "NetworkPolicy", "prune-test"))
    assert gone and all("alertmanager" in name for name in gone), gone
    # Same name as one of the role's, but without the ownership labels: never touched.
    same = plane.get("networking.k8s.io/v1", "NetworkPolicy", "k8s-monitoring-allow-ui-to-grafana", "prune-test")
    assert same["metadata"]["uid"] == hand_made["metadata"]["uid"]


def test_two_uses_of_a_role_in_one_cluster_never_prune_each_other(control_plane, tmp_path):
    """The pushgateway role for team-a and then for team-b: both stay; absent for team-b removes team-b's only."""
    plane = control_plane
    for namespace in ("instance-a", "instance-b"):
        plane.ensure_namespace(namespace)
    base = {"pushgateway_preset": "plain", "pushgateway_instances": [{"name": "pushgateway"}]}
    play(tmp_path, plane, ["pushgateway"], **dict(base, pushgateway_namespace="instance-a"))
    play(tmp_path, plane, ["pushgateway"], **dict(base, pushgateway_namespace="instance-b"))
    for namespace in ("instance-a", "instance-b"):
        assert names(plane, "apps/v1", "Deployment", namespace) == ["pushgateway"], namespace
        labels = plane.get("apps/v1", "Deployment", "pushgateway", namespace)["metadata"]["labels"]
        assert labels["prometheus.k8s-monitoring.io/instance"] == namespace
    play(tmp_path, plane, ["pushgateway"], **dict(base, pushgateway_namespace="instance-b", pushgateway_state="absent"))
    assert names(plane, "apps/v1", "Deployment", "instance-b") == []
    assert names(plane, "apps/v1", "Deployment", "instance-a") == ["pushgateway"]


def connection_play(tmp_path, plane, module_defaults, variables):
    """The pushgateway role in apply mode with no k8s_monitoring_kubeconfig and no KUBECONFIG anywhere."""
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "k8s_monitoring_mode": "apply", "pushgateway_preset": "plain",
            "pushgateway_instances": [{"name": "pushgateway"}]}
    host.update(variables)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"cluster": host}}}))
    play_text = yaml.safe_dump([{"name": "Roles", "hosts": "all", "gather_facts": False, "module_defaults": module_defaults,
                                 "tasks": [{"name": "Role", "ansible.builtin.include_role": {
                                     "name": "k8s_monitoring.prometheus.pushgateway"}}]}])
    (tmp_path / "play.yml").write_text(play_text)
    env = {"KUBECONFIG": str(tmp_path / "no-such-kubeconfig"), "HOME": str(tmp_path)}
    return run_playbook(tmp_path / "play.yml", "-i", str(tmp_path / "hosts.yml"), env=env)


def test_play_module_defaults_reach_every_module_the_roles_call(control_plane, tmp_path):
    """module_defaults for the collection's group (which extends kubernetes.core's) are not dropped by the roles."""
    plane = control_plane
    plane.ensure_namespace("defaults-a")
    connection_play(tmp_path, plane, {"group/k8s_monitoring.prometheus.cluster": {
        "kubeconfig": str(plane.kubeconfigs["admin"])}}, {"pushgateway_namespace": "defaults-a"})
    assert names(plane, "apps/v1", "Deployment", "defaults-a") == ["pushgateway"]


def test_host_token_and_ca_variables_connect_without_a_kubeconfig(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("defaults-b")
    connection_play(tmp_path, plane, {}, {
        "pushgateway_namespace": "defaults-b", "k8s_monitoring_host": plane.url,
        "k8s_monitoring_api_key": plane.tokens["admin"], "k8s_monitoring_ca_cert": str(plane.files["ca.crt"])})
    assert names(plane, "apps/v1", "Deployment", "defaults-b") == ["pushgateway"]


def secret_users(plane, namespace, name="prometheus-external-basic-auth"):
    text = base64.b64decode(plane.get("v1", "Secret", name, namespace)["data"]["auth"]).decode()
    return dict(line.split(":", 1) for line in text.splitlines())


EXTERNAL = {"prometheus_external_access_platform": "kube_prometheus_stack",
            "prometheus_external_access_namespace": "auth-test",
            "prometheus_external_access_host": "prometheus.example.com",
            "prometheus_external_access_allowlist": ["192.0.2.0/24"]}


def test_basic_auth_keeps_unchanged_hashes_and_changes_only_what_changed(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("auth-test")
    users = [{"username": "alice", "password": "a" * 20}, {"username": "bob", "password": "b" * 20},
             {"username": "carol", "password": "c" * 20}]
    play(tmp_path, plane, ["prometheus_external_access"], prometheus_external_access_users=users, **EXTERNAL)
    first = secret_users(plane, "auth-test")
    assert sorted(first) == ["alice", "bob", "carol"]

    unchanged = play(tmp_path, plane, ["prometheus_external_access"], prometheus_external_access_users=users, **EXTERNAL)
    assert recap(unchanged.stdout)["cluster"]["changed"] == 0
    assert secret_users(plane, "auth-test") == first

    users = [{"username": "alice", "password": "a" * 20}, {"username": "bob", "password": "B" * 20}]
    play(tmp_path, plane, ["prometheus_external_access"], prometheus_external_access_users=users, **EXTERNAL)
    second = secret_users(plane, "auth-test")
    assert sorted(second) == ["alice", "bob"]
    assert second["alice"] == first["alice"]
    assert second["bob"] != first["bob"]


def test_a_proxy_ssl_secret_without_ca_crt_is_refused_before_anything_is_written(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("proxy-ssl-test")
    plane.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "backend-client", "namespace": "proxy-ssl-test"},
                 "data": {"tls.crt": base64.b64encode(b"cert").decode(), "tls.key": base64.b64encode(b"key").decode()}})
    result = play(tmp_path, plane, ["prometheus_external_access"], check=False, **dict(
        EXTERNAL, prometheus_external_access_namespace="proxy-ssl-test",
        prometheus_external_access_backend_protocol="HTTPS",
        prometheus_external_access_client_cert_mode="secret",
        prometheus_external_access_proxy_ssl_secret_name="backend-client",
        prometheus_external_access_users=[{"username": "grafana", "password": "g" * 20}]))
    assert result.returncode != 0
    assert "ca.crt" in one_line(result.stdout)
    assert plane.list("networking.k8s.io/v1", "Ingress", "proxy-ssl-test") == []
    assert names(plane, "v1", "Secret", "proxy-ssl-test") == []


PROMETHEUS_CRD = {
    # Not in ../shared/crds; the warning reads only the selectors, so a schema-less
    # CRD of the same group and kind holds them.
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "prometheuses.monitoring.coreos.com"},
    "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
             "names": {"plural": "prometheuses", "singular": "prometheus", "kind": "Prometheus", "listKind": "PrometheusList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def test_the_selector_and_pod_warnings_fire_where_they_should(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("warn-test")
    plane.apply(PROMETHEUS_CRD)
    _wait_served(plane, "monitoring.coreos.com/v1", "Prometheus")
    prometheus = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
                  "metadata": {"name": "main", "namespace": "warn-test"},
                  "spec": {"podMonitorSelector": {"matchLabels": {"release": "other"}}, "podMonitorNamespaceSelector": {},
                           "serviceMonitorSelector": {"matchLabels": {"release": "other"}},
                           "serviceMonitorNamespaceSelector": {}}}
    plane.apply(prometheus)
    # A kube-state-metrics pod whose port is not the policy's; the API server stores
    # pods although no kubelet ever runs them.
    plane.apply({"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "ksm", "namespace": "warn-test",
                              "labels": {"app.kubernetes.io/name": "kube-state-metrics"}},
                 "spec": {"containers": [{"name": "ksm", "image": "example.invalid/ksm",
                                          "ports": [{"containerPort": 9999, "name": "http"}]}]}})
    istio = {"istio_metrics_namespace": "warn-test", "istio_metrics_clients": [{"namespace": "a", "service_account": "b"}],
             "network_policies_namespace": "warn-test",
             "network_policies_components": {"default_deny": False}}
    mismatched = one_line(play(tmp_path, plane, ["istio_metrics", "network_policies"], **istio).stdout)
    assert "No Prometheus in the cluster would pick up PodMonitor warn-test/envoy-stats" in mismatched
    assert ("NetworkPolicy warn-test/k8s-monitoring-allow-prometheus-to-kube-state-metrics allows 8080/TCP, "
            "but the pods it selects (app.kubernetes.io/name=kube-state-metrics) expose 9999/TCP (http)") in mismatched
    assert "k8s-monitoring-allow-prometheus-to-node-exporter selects no running pod" in mismatched

    prometheus["spec"]["podMonitorSelector"] = {"matchLabels": {"release": "prometheus-operator"}}
    plane.apply(prometheus)
    matched = one_line(play(tmp_path, plane, ["istio_metrics"], **istio).stdout)
    assert "would pick up PodMonitor" not in matched


def _wait_served(plane, api_version, kind, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plane.forget_discovery()
        try:
            plane.resource(api_version, kind)
            return
        except Exception:  # not served yet
            time.sleep(0.2)
    raise AssertionError("{0} {1} not served".format(api_version, kind))


def test_field_ownership_conflicts_fail_clearly_or_are_taken_over(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("conflict-test")
    variables = dict(PUSHGATEWAY, pushgateway_namespace="conflict-test", pushgateway_instances=[{"name": "only"}])
    play(tmp_path, plane, ["pushgateway"], **variables)
    service = plane.get("v1", "Service", "only", "conflict-test")
    plane.apply({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "only", "namespace": "conflict-test", "labels": {"app.kubernetes.io/name": "taken"}}},
        manager="someone-else")
    refused = play(tmp_path, plane, ["pushgateway"], check=False, k8s_monitoring_force_conflicts=False, **variables)
    assert refused.returncode != 0
    message = one_line(refused.stdout)
    assert ('Service conflict-test/only: .metadata.labels.app.kubernetes.io/name is owned by the field manager '
            '"someone-else"; set k8s_monitoring_force_conflicts: true') in message
    assert plane.get("v1", "Service", "only", "conflict-test")["metadata"]["labels"]["app.kubernetes.io/name"] == "taken"

    play(tmp_path, plane, ["pushgateway"], k8s_monitoring_force_conflicts=True, **variables)
    labels = plane.get("v1", "Service", "only", "conflict-test")["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == service["metadata"]["labels"]["app.kubernetes.io/name"]


def test_restricted_credentials_are_named_before_anything_is_applied(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("elsewhere")
    result = play(tmp_path, plane, ["pushgateway"], user="restricted", check=False,
                  **dict(PUSHGATEWAY, pushgateway_namespace="elsewhere"))
    assert result.returncode != 0
    message = one_line(result.stdout)
    assert "The Kubernetes credentials may not create deployments.apps in namespace elsewhere" in message
    assert "patch services in namespace elsewhere" in message
    assert "list servicemonitors.monitoring.coreos.com in all namespaces (cluster scope)" in message
    assert "Nothing was changed." in message
    assert plane.list("apps/v1", "Deployment", "elsewhere") == []


def test_a_missing_crd_is_named_before_anything_is_written(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("crd-test")
    crd = plane.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "authorizationpolicies.security.istio.io")
    plane.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "authorizationpolicies.security.istio.io")
    try:
        deadline = time.monotonic() + 30
        while plane.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                        "authorizationpolicies.security.istio.io") and time.monotonic() < deadline:
            time.sleep(0.2)
        result = play(tmp_path, plane, ["istio_metrics"], check=False, istio_metrics_namespace="crd-test",
                      istio_metrics_clients=[{"namespace": "a", "service_account": "b"}])
        assert result.returncode != 0, result.stdout
        (tmp_path / "out.log").write_text(result.stdout)
        assert ("The cluster does not serve AuthorizationPolicy (security.istio.io/v1), which comes from Istio"
                in one_line(result.stdout))
        assert plane.list("monitoring.coreos.com/v1", "PodMonitor", "crd-test") == []
    finally:
        for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"):
            crd["metadata"].pop(key, None)
        crd.pop("status", None)
        plane.apply(crd)
        _wait_served(plane, "security.istio.io/v1", "AuthorizationPolicy")


def test_an_api_server_stopped_mid_run_fails_clearly_and_the_next_run_converges(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("outage-test")
    reached, resume = tmp_path / "reached", tmp_path / "resume"
    between = [{"name": "Tell the test the first role is done", "ansible.builtin.file": {"path": str(reached), "state": "touch"}},
               {"name": "Wait until the API server is down", "ansible.builtin.wait_for": {"path": str(resume), "timeout": 120}}]
    variables = dict(PUSHGATEWAY, pushgateway_namespace="outage-test", network_policies_namespace="outage-test")

    def outage():
        deadline = time.monotonic() + 120
        while not reached.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        plane.stop_apiserver()
        resume.touch()

    stopper = threading.Thread(target=outage)
    stopper.start()
    try:
        failed = play(tmp_path, plane, ["pushgateway", "network_policies"], tasks_between=between, check=False,
                      **variables)
    finally:
        stopper.join(timeout=150)
        plane.start_apiserver()
    assert failed.returncode != 0
    assert "did not answer (connection refused). Nothing was changed." in one_line(failed.stdout)
    assert "Traceback" not in failed.stdout
    again = play(tmp_path, plane, ["pushgateway", "network_policies"], **variables)
    assert recap(again.stdout)["cluster"]["failed"] == 0
    assert names(plane, "apps/v1", "Deployment", "outage-test") == ["first", "second"]
    assert "k8s-monitoring-allow-prometheus-to-node-exporter" in names(plane, "networking.k8s.io/v1", "NetworkPolicy", "outage-test")
    steady = play(tmp_path, plane, ["pushgateway", "network_policies"], **variables)
    assert recap(steady.stdout)["cluster"]["changed"] == 0


def test_check_mode_on_an_empty_namespace_writes_nothing(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("check-test")
    result = play(tmp_path, plane, ["pushgateway"], extra_args=("--check",),
                  **dict(PUSHGATEWAY, pushgateway_namespace="check-test"))
    assert recap(result.stdout)["cluster"]["changed"] > 0
    assert plane.list("apps/v1", "Deployment", "check-test") == []


def test_alert_groups_are_accepted_idempotent_and_a_switched_off_group_is_pruned(control_plane, tmp_path):
    """monitors_and_alerts on the real API server: the PrometheusRule and CustomPrometheusRules CRDs accept
    every group, a re-run changes nothing, and switching one group off removes exactly its object."""
    plane = control_plane
    plane.ensure_namespace("alerts-test")
    groups = {"monitors_and_alerts_pushgateway_alerts": {"enabled": True, "stale_after_by_job": {"nightly": "26h"}},
              "monitors_and_alerts_external_access_alerts": {"enabled": True, "host": "prometheus.example.com"}}
    kps = dict(groups, monitors_and_alerts_namespace="alerts-test", monitors_and_alerts_monitor_labels={"release": "kps"})
    play(tmp_path, plane, ["monitors_and_alerts"], **kps)
    rules = names(plane, "monitoring.coreos.com/v1", "PrometheusRule", "alerts-test")
    assert rules == ["k8s-monitoring-external-access", "k8s-monitoring-fluent-bit", "k8s-monitoring-pushgateway"]
    assert names(plane, "monitoring.coreos.com/v1", "PodMonitor", "alerts-test") == ["fluent-bit", "ingress-controller"]
    versions = {n: plane.get("monitoring.coreos.com/v1", "PrometheusRule", n, "alerts-test")["metadata"]["resourceVersion"]
                for n in rules}

    again = play(tmp_path, plane, ["monitors_and_alerts"], **kps)
    assert recap(again.stdout)["cluster"]["changed"] == 0
    kps["monitors_and_alerts_external_access_alerts"] = {"enabled": False}
    play(tmp_path, plane, ["monitors_and_alerts"], **kps)
    assert names(plane, "monitoring.coreos.com/v1", "PrometheusRule", "alerts-test") == [
        "k8s-monitoring-fluent-bit", "k8s-monitoring-pushgateway"]
    for name in ("k8s-monitoring-fluent-bit", "k8s-monitoring-pushgateway"):
        assert plane.get("monitoring.coreos.com/v1", "PrometheusRule", name,
                         "alerts-test")["metadata"]["resourceVersion"] == versions[name]

    # Deckhouse: cluster-scoped CustomPrometheusRules, the same groups minus external access.
    deckhouse = dict(groups, monitors_and_alerts_preset="deckhouse")
    result = play(tmp_path, plane, ["monitors_and_alerts"], **deckhouse)
    assert "do not export nginx_ingress_controller_requests" in one_line(result.stdout)
    assert names(plane, "deckhouse.io/v1", "CustomPrometheusRules", None) == ["k8s-monitoring-pushgateway"]
    play(tmp_path, plane, ["monitors_and_alerts"], monitors_and_alerts_preset="deckhouse",
         monitors_and_alerts_state="absent")
    assert names(plane, "deckhouse.io/v1", "CustomPrometheusRules", None) == []


def test_switching_the_external_access_flavour_prunes_the_other_flavours_objects(control_plane, tmp_path):
    """envoy_gateway on the real API server (the Gateway API and Envoy Gateway CRDs, CEL rules included), then
    back to the Ingress: the route objects go, and the other way round."""
    plane = control_plane
    plane.ensure_namespace("flavour-test")
    base = {"prometheus_external_access_platform": "generic", "prometheus_external_access_namespace": "flavour-test",
            "prometheus_external_access_service_name": "prometheus", "prometheus_external_access_service_port": 9090,
            "prometheus_external_access_host": "prometheus.example.com",
            "prometheus_external_access_allowlist": ["203.0.113.0/24"]}
    gateway = dict(base, prometheus_external_access_flavour="envoy_gateway",
                   prometheus_external_access_gateway_name="public",
                   prometheus_external_access_gateway_namespace="envoy-gateway-system")
    play(tmp_path, plane, ["prometheus_external_access"], **gateway)
    assert names(plane, "gateway.networking.k8s.io/v1", "HTTPRoute", "flavour-test") == ["prometheus-external"]
    assert names(plane, "gateway.envoyproxy.io/v1alpha1", "SecurityPolicy", "flavour-test") == ["prometheus-external"]
    assert names(plane, "networking.k8s.io/v1", "Ingress", "flavour-test") == []
    users = plane.get("v1", "Secret", "prometheus-external-basic-auth", "flavour-test")["data"]
    assert list(users) == [".htpasswd"]
    assert base64.b64decode(users[".htpasswd"]).decode().startswith("grafana:{SHA}")
    again = play(tmp_path, plane, ["prometheus_external_access"], **gateway)
    assert recap(again.stdout)["cluster"]["changed"] == 0

    play(tmp_path, plane, ["prometheus_external_access"], **base)
    assert names(plane, "networking.k8s.io/v1", "Ingress", "flavour-test") == ["prometheus-external"]
    assert names(plane, "gateway.networking.k8s.io/v1", "HTTPRoute", "flavour-test") == []
    assert names(plane, "gateway.envoyproxy.io/v1alpha1", "SecurityPolicy", "flavour-test") == []
    assert list(plane.get("v1", "Secret", "prometheus-external-basic-auth", "flavour-test")["data"]) == ["auth"]
