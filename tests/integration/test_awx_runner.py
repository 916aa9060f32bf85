"""Runs the way AWX runs it: ansible-runner, a private data directory, no TTY,
extra vars from a file, and the Kubernetes bearer-token credential injected as
K8S_AUTH_* environment variables. Job events are checked for status and leaks."""

import base64
import json
import shutil
import urllib.request

import ansible_runner
import bcrypt
import yaml

from tests.integration.services import free_port, start_prometheus, start_pushgateway
from tests.playbook import REPO, ansible_env, example_clusters

TOKEN = "awx-injected-token-6f1d2c9e8b7a"


def private_data_dir(tmp_path, extravars, envvars, inventory):
    root = tmp_path / "pdd"
    tmp_path.mkdir(parents=True, exist_ok=True)
    (root / "env").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return root


def awx_envvars(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nnot used by render mode\n-----END CERTIFICATE-----\n")
    env = ansible_env()
    return {
        "K8S_AUTH_HOST": "https://127.0.0.1:{0}".format(free_port()),
        "K8S_AUTH_API_KEY": TOKEN,
        "K8S_AUTH_VERIFY_SSL": "True",
        "K8S_AUTH_SSL_CA_CERT": str(ca),
        "ANSIBLE_COLLECTIONS_PATH": env["ANSIBLE_COLLECTIONS_PATH"],
        "HOME": str(tmp_path / "home"),
        "PATH": env["PATH"],
    }


def run(root, playbook, inventory_dir=None):
    # As AWX's worker does: ansible-runner drives ansible-playbook itself; nobody
    # answers a prompt, so any prompt would hang until the time-out and fail.
    return ansible_runner.run(private_data_dir=str(root), project_dir=str(REPO), playbook=playbook,
                              inventory=inventory_dir, quiet=True, timeout=600)


def events_text(runner):
    return "\n".join(json.dumps(event) for event in runner.events)


def example_inventory_copy(tmp_path):
    """The example inventory without its host_vars (AWX credentials replace the kubeconfig paths)."""
    target = tmp_path / "inventory"
    shutil.copytree(REPO / "inventory" / "example", target, ignore=shutil.ignore_patterns("host_vars"))
    return target


def test_site_in_render_mode_through_ansible_runner(tmp_path):
    out = tmp_path / "out"
    inventory = example_inventory_copy(tmp_path)
    root = private_data_dir(tmp_path, {"k8s_monitoring_mode": "render",
                                       "k8s_monitoring_render_dir": str(out) + "/{{ inventory_hostname }}"},
                            awx_envvars(tmp_path), {})
    runner = run(root, "site.yml", inventory_dir=str(inventory))
    assert runner.status == "successful", runner.stdout.read()
    stats = [e for e in runner.events if e["event"] == "playbook_on_stats"]
    assert stats and sorted(stats[0]["event_data"]["ok"]) == example_clusters()
    assert not stats[0]["event_data"]["failures"]
    assert sorted(p.name for p in out.iterdir()) == example_clusters()
    assert TOKEN not in events_text(runner)
    assert all(TOKEN not in p.read_text() for p in out.rglob("*") if p.is_file())


def test_apply_mode_with_unreachable_api_fails_with_one_sentence(tmp_path):
    inventory = {"k8s_clusters": {"hosts": {"awx-cluster": {"ansible_connection": "local",
                                                            "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}
    extravars = {"istio_metrics_enabled": True, "istio_metrics_preset": "verrazzano"}
    root = private_data_dir(tmp_path, extravars, awx_envvars(tmp_path), inventory)
    runner = run(root, "site.yml")
    assert runner.status == "failed"
    failures = [e for e in runner.events if e["event"] == "runner_on_failed"]
    assert len(failures) == 1
    message = failures[0]["event_data"]["res"]["msg"]
    assert "did not answer (connection refused)" in message and "Nothing was changed" in message
    assert TOKEN not in events_text(runner)


def test_push_and_delete_playbooks_as_awx_job_templates(tmp_path):
    """Survey-shaped extra vars (grouping as JSON text, metrics as a textarea), the
    Pushgateway password from a credential, real Pushgateway (basic auth) and Prometheus."""
    password = "pushgateway-survey-secret-93b1"
    web_config = {"basic_auth_users": {"pusher": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}}
    gateway = start_pushgateway(str(tmp_path / "pgw"), web_config=web_config)
    try:
        port = gateway.url.rsplit(":", 1)[1]
        prometheus = start_prometheus(str(tmp_path / "prom"), {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [{"job_name": "pushgateway", "honor_labels": True,
                                "basic_auth": {"username": "pusher", "password": password},
                                "static_configs": [{"targets": ["127.0.0.1:" + port]}]}]})
        try:
            survey = {"pushgateway_push_url": gateway.url, "pushgateway_push_job": "awx-backup",
                      "pushgateway_push_grouping": '{"site": "eu/west-1"}',
                      "pushgateway_push_metrics_text": "# TYPE backup_ok gauge\nbackup_ok 1\n",
                      "pushgateway_push_username": "pusher", "pushgateway_push_password": password,
                      "pushgateway_verify_prometheus_url": prometheus.url, "pushgateway_verify_timeout": 60}
            envvars = awx_envvars(tmp_path)
            push = run(private_data_dir(tmp_path / "push", survey, envvars, {}), "playbooks/pushgateway_push.yml")
            assert push.status == "successful", push.stdout.read()
            groups = json.loads(urllib.request.urlopen(urllib.request.Request(
                gateway.url + "/api/v1/metrics", headers={"Authorization": basic(password)}), timeout=10).read())
            assert any(g["labels"].get("job") == "awx-backup" and g["labels"].get("site") == "eu/west-1"
                       for g in groups["data"])

            delete = run(private_data_dir(tmp_path / "delete", survey, envvars, {}), "playbooks/pushgateway_delete.yml")
            assert delete.status == "successful", delete.stdout.read()
            groups = json.loads(urllib.request.urlopen(urllib.request.Request(
                gateway.url + "/api/v1/metrics", headers={"Authorization": basic(password)}), timeout=10).read())
            assert not any(g["labels"].get("job") == "awx-backup" for g in groups["data"])
            for runner in (push, delete):
                assert password not in events_text(runner)
                assert TOKEN not in events_text(runner)
        finally:
            prometheus.stop()
    finally:
        gateway.stop()


def basic(password):
    return "Basic " + base64.b64encode("pusher:{0}".format(password).encode()).decode()
