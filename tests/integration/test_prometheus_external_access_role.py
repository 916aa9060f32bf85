"""The role through ansible-playbook in render mode, and both modules run directly.

Proves: a second run reports no change; check mode changes no file; no password and
no private key appear in -vvv output, diffs, rendered files, outside-side files or
module results; generated passwords are kept 0600 and reused; state absent removes
what the role wrote. Apply mode needs a Kubernetes API server, which this machine
does not have (see test_apply_mode_needs_a_cluster).
"""

import base64
import json
import os
import pathlib
import re
import stat
import subprocess
import sys

import pytest
import yaml

from tests.schema import validate_rendered_tree

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
KNOWN_PASSWORD = "Known-Grafana-Password-For-Leak-Scan-42"
ROTATED_PASSWORD = "Rotated-Grafana-Password-For-Leak-Scan-43"
KEY_MARKER = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQLEAKSCANMARKER"
ROLE_DIR = "prometheus_external_access"


def run(args, env_extra=None, cwd=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="true", ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_LOCAL_TEMP=str(REPO / "build" / "ansible-tmp"),
               PATH="{0}{1}{2}".format(BIN, os.pathsep, os.environ.get("PATH", "")))
    env.update(env_extra or {})
    return subprocess.run(args, cwd=str(cwd or REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=240, check=False)


def recap_changed(output):
    for line in output.splitlines():
        if line.startswith("pea-cluster") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    raise AssertionError("no recap in:\n" + output)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("pea-role"))


def make_workspace(base):
    (base / "tls.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIBCERT\n-----END CERTIFICATE-----\n")
    (base / "tls.key").write_text("-----BEGIN PRIVATE KEY-----\n{0}\n-----END PRIVATE KEY-----\n".format(KEY_MARKER))
    (base / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"pea-cluster": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (base / "play.yml").write_text(yaml.safe_dump([{
        "name": "External access in render mode", "hosts": "all", "gather_facts": False,
        "tasks": [{"name": "Run the role", "ansible.builtin.include_role": {
            "name": "k8s_monitoring.prometheus.prometheus_external_access"}}]}]))
    return base


def playbook(workspace, *extra, password=KNOWN_PASSWORD, state="present", overrides=None):
    variables = {
        "k8s_monitoring_mode": "render",
        "k8s_monitoring_render_dir": str(workspace / "rendered"),
        "prometheus_external_access_state": state,
        "prometheus_external_access_platform": "deckhouse",
        "prometheus_external_access_host": "prometheus.pea-test.example.com",
        "prometheus_external_access_allowlist": ["203.0.113.10/32"],
        "prometheus_external_access_users": [{"username": "grafana", "password": password},
                                             {"username": "federate"}],
        "prometheus_external_access_password_dir": str(workspace / "credentials"),
        "prometheus_external_access_tls_cert_file": str(workspace / "tls.crt"),
        "prometheus_external_access_tls_key_file": str(workspace / "tls.key"),
        "prometheus_external_access_grafana_datasource_file": str(workspace / "outside" / "grafana.yaml"),
        "prometheus_external_access_federation_file": str(workspace / "outside" / "federation.yaml"),
        "prometheus_external_access_federation_username": "federate",
    }
    variables.update(overrides or {})
    (workspace / "vars.json").write_text(json.dumps(variables))
    return run([str(BIN / "ansible-playbook"), "-i", str(workspace / "hosts.yml"), str(workspace / "play.yml"),
                "-e", "@" + str(workspace / "vars.json"), "-vvv", "--diff"] + list(extra))


def secrets_of(workspace):
    generated = (workspace / "credentials" / "federate").read_text().split()[0]
    return [KNOWN_PASSWORD, ROTATED_PASSWORD, KEY_MARKER, generated]


def snapshot(root):
    return dict((str(p), p.read_bytes()) for p in sorted(pathlib.Path(root).rglob("*")) if p.is_file())


def assert_no_secret(workspace, text, where):
    for secret in secrets_of(workspace):
        assert secret not in text, "a secret leaked into {0}".format(where)


def test_render_idempotent_check_mode_and_no_leaks(workspace):
    first = playbook(workspace)
    assert first.returncode == 0, first.stdout
    assert recap_changed(first.stdout) > 0

    credential = workspace / "credentials" / "federate"
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    assert stat.S_IMODE((workspace / "credentials").stat().st_mode) == 0o700
    rendered = workspace / "rendered" / ROLE_DIR
    files = sorted(p.name for p in rendered.iterdir())
    assert files == ["d8-monitoring.ingress.prometheus-external.yaml",
                     "d8-monitoring.secret.prometheus-external-basic-auth.yaml", "kustomization.yaml"]
    secret_file = rendered / "d8-monitoring.secret.prometheus-external-basic-auth.yaml"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert validate_rendered_tree(workspace / "rendered") == 2
    # render mode leaves the TLS Secret (private key) out and says how to create it
    assert "kubectl -n d8-monitoring create secret tls prometheus-external-tls" in first.stdout
    assert_no_secret(workspace, first.stdout, "-vvv --diff output of the first run")

    second = playbook(workspace)
    assert second.returncode == 0, second.stdout
    assert recap_changed(second.stdout) == 0, second.stdout
    assert_no_secret(workspace, second.stdout, "-vvv --diff output of the second run")

    before = snapshot(workspace / "rendered")
    before.update(snapshot(workspace / "outside"))
    checked = playbook(workspace, "--check", password=ROTATED_PASSWORD)
    assert checked.returncode == 0, checked.stdout
    assert recap_changed(checked.stdout) > 0, "a rotated password must report a change in check mode"
    after = snapshot(workspace / "rendered")
    after.update(snapshot(workspace / "outside"))
    assert after == before, "check mode changed a file"
    assert_no_secret(workspace, checked.stdout, "-vvv --diff --check output")

    for path, content in after.items():
        assert_no_secret(workspace, content.decode("utf-8", "replace"), path)
    federation = yaml.safe_load((workspace / "outside" / "federation.yaml").read_text())
    assert federation["scrape_configs"][0]["basic_auth"]["username"] == "federate"
    grafana = yaml.safe_load((workspace / "outside" / "grafana.yaml").read_text())
    assert grafana["datasources"][0]["url"] == "https://prometheus.pea-test.example.com"

    assert re.search(r"changed_users:\s*\n\s*- grafana\n", checked.stdout), "rotation not reported"
    assert (workspace / "credentials" / "federate").read_text().split()[0] == secrets_of(workspace)[3]

    removed = playbook(workspace, state="absent", password=ROTATED_PASSWORD)
    assert removed.returncode == 0, removed.stdout
    assert not rendered.exists()
    assert not (workspace / "outside" / "federation.yaml").exists()


def test_bad_input_fails_before_anything_is_written(workspace, tmp_path):
    variables = {"k8s_monitoring_mode": "render", "k8s_monitoring_render_dir": str(tmp_path / "rendered"),
                 "prometheus_external_access_platform": "deckhouse",
                 "prometheus_external_access_host": "prometheus.pea-test.example.com",
                 "prometheus_external_access_allowlist": ["10.0.0.1/8"],
                 "prometheus_external_access_users": [{"username": "grafana", "password": KNOWN_PASSWORD}],
                 "prometheus_external_access_password_dir": str(tmp_path / "credentials")}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    result = run([str(BIN / "ansible-playbook"), "-i", str(workspace / "hosts.yml"), str(workspace / "play.yml"),
                  "-e", "@" + str(tmp_path / "vars.json")])
    assert result.returncode != 0
    assert "prometheus_external_access_allowlist[0]: expected a CIDR" in result.stdout
    assert "Traceback" not in result.stdout and "MODULE FAILURE" not in result.stdout
    assert not (tmp_path / "rendered").exists()
    assert KNOWN_PASSWORD not in result.stdout


def test_check_mode_generates_no_password_file_and_says_what_it_would_generate(tmp_path):
    """12.17 (c): the password lookup must not write in check mode; the run reports what it would generate."""
    workspace = make_workspace(tmp_path)
    checked = playbook(workspace, "--check")
    assert checked.returncode == 0, checked.stdout
    assert not (workspace / "credentials").exists(), "check mode wrote a password file"
    assert not (workspace / "rendered").exists() and not (workspace / "outside").exists()
    assert "Would generate passwords for federate in {0}/federate (check mode: nothing written)".format(
        workspace / "credentials") in " ".join(checked.stdout.split())  # the callback wraps long lines
    assert recap_changed(checked.stdout) > 0
    assert KNOWN_PASSWORD not in checked.stdout


@pytest.mark.parametrize("overrides,message", [
    ({"prometheus_external_access_password_length": 8},
     "prometheus_external_access_password_length: 8 is less than prometheus_external_access_min_password_length (16)"),
    ({"prometheus_external_access_users": [{"username": "grafana", "password": "Tiny-Given-8"}, {"username": "federate"}]},
     "prometheus_external_access_users[0] (user 'grafana'): password is shorter than 16 characters"),
    ({"prometheus_external_access_hash_cost": 3}, "cost: expected a bcrypt cost from 4 to 31"),
])
def test_bad_password_input_fails_before_a_password_file_is_written(tmp_path, overrides, message):
    """12.11: inputs are checked before the password lookup, so a failed run leaves no password file."""
    workspace = make_workspace(tmp_path)
    result = playbook(workspace, overrides=overrides)
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split())
    assert "Traceback" not in result.stdout and "MODULE FAILURE" not in result.stdout
    assert not (workspace / "credentials").exists(), "a password file was written before the inputs were checked"
    assert not (workspace / "rendered").exists()
    assert "Tiny-Given-8" not in result.stdout


def test_bad_stored_password_is_named_by_its_file_and_deleting_it_recovers(tmp_path):
    """12.11: a stored password that fails the checks names its file and the fix, never its content."""
    workspace = make_workspace(tmp_path)
    stored = workspace / "credentials" / "federate"
    stored.parent.mkdir(mode=0o700)
    stored.write_text("Tiny9Xq\n")
    stored.chmod(0o600)
    failed = playbook(workspace)
    assert failed.returncode != 0
    assert ("prometheus_external_access_users[1] (user 'federate'): the password stored in {0} is shorter than 16 "
            "characters; delete it and run again to have a new one generated".format(stored)) in " ".join(
                failed.stdout.split())
    assert "Tiny9Xq" not in failed.stdout
    assert "Traceback" not in failed.stdout and not (workspace / "rendered").exists()

    stored.unlink()
    recovered = playbook(workspace)
    assert recovered.returncode == 0, recovered.stdout
    assert len(stored.read_text().split()[0]) == 32


ENVOY = {"prometheus_external_access_platform": "kube_prometheus_stack",
         "prometheus_external_access_flavour": "envoy_gateway", "prometheus_external_access_gateway_name": "public",
         "prometheus_external_access_tls_cert_file": None, "prometheus_external_access_tls_key_file": None}


def test_envoy_gateway_refuses_a_chosen_password_before_anything_is_written(tmp_path):
    """Issue 14: {SHA} is unsalted SHA-1, so the flavour takes only generated passwords; nothing is written."""
    workspace = make_workspace(tmp_path)
    result = playbook(workspace, overrides=ENVOY)
    assert result.returncode != 0
    assert ("prometheus_external_access_users[0] (user 'grafana'): Envoy Gateway's basic auth accepts only unsalted "
            "SHA-1 ({SHA}) hashes") in " ".join(result.stdout.split())
    assert KNOWN_PASSWORD not in result.stdout
    assert not (workspace / "credentials").exists() and not (workspace / "rendered").exists()


def test_envoy_gateway_renders_sha_hashes_of_generated_passwords_only_in_the_0600_secret(tmp_path):
    workspace = make_workspace(tmp_path)
    overrides = dict(ENVOY, prometheus_external_access_users=[{"username": "grafana"}, {"username": "federate"}])
    result = playbook(workspace, overrides=overrides)
    assert result.returncode == 0, result.stdout
    rendered = workspace / "rendered" / "prometheus_external_access"
    [secret_file] = rendered.glob("*.secret.*.yaml")
    assert secret_file.stat().st_mode & 0o777 == 0o600
    lines = base64.b64decode(yaml.safe_load(secret_file.read_text())["data"][".htpasswd"]).decode().splitlines()
    assert [line.split(":{SHA}")[0] for line in lines] == ["grafana", "federate"]
    passwords = [(workspace / "credentials" / user).read_text().split()[0] for user in ("grafana", "federate")]
    everything = result.stdout + "".join(p.read_text() for p in rendered.iterdir())
    assert all(len(password) >= 22 and password not in everything for password in passwords)
    assert sorted(p.name.split(".")[1] for p in rendered.glob("monitoring.*.yaml")) == [
        "httproute", "secret", "securitypolicy"]


def run_module(name, args, check_mode=False):
    """Run the module file itself (not its action plugin), the way Ansible runs it on a host."""
    path = REPO / "plugins" / "modules" / (name + ".py")
    payload = dict(args, _ansible_check_mode=check_mode)
    result = subprocess.run([sys.executable, str(path)], input=json.dumps({"ANSIBLE_MODULE_ARGS": payload}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=str(REPO / ".collections")), check=False)
    return json.loads(result.stdout)


def test_htpasswd_module_directly_reuses_hashes_and_never_returns_passwords():
    args = {"name": "basic-auth", "namespace": "monitoring",
            "users": [{"username": "grafana", "password": KNOWN_PASSWORD}]}
    first = run_module("htpasswd_secret", args)
    assert first["changed"] is True and first["changed_users"] == ["grafana"], first
    second = run_module("htpasswd_secret", dict(args, current_secret=first["secret"]), check_mode=True)
    assert second["changed"] is False and second["secret"] == first["secret"]
    bad = run_module("htpasswd_secret", dict(args, users=[{"username": "grafana", "password": "x" * 80}]))
    assert bad["failed"] and "users[0] (user 'grafana'): password is longer than 72 bytes" in bad["msg"]
    for result in (first, second, bad):
        assert KNOWN_PASSWORD not in json.dumps(result) and "x" * 80 not in json.dumps(result)


def test_build_module_directly():
    result = run_module("prometheus_external_access_build", {
        "platform": "kube_prometheus_stack", "host": "prometheus.kps.example.com", "allowlist": ["192.0.2.0/24"]})
    assert not result.get("failed"), result
    assert [m["kind"] for m in result["manifests"]] == ["Ingress"]
    assert "basic auth alone is weak" in json.dumps(result["warnings"])
    assert "did not set no_log" not in json.dumps(result["warnings"])
    bad = run_module("prometheus_external_access_build", {"platform": "kube_prometheus_stack",
                                                          "host": "prometheus.kps.example.com"})
    assert bad["failed"] and bad["msg"].startswith("prometheus_external_access_allowlist: give the source CIDRs")
