"""prometheus_external_access in apply mode on a real API server: hash schemes by password source.

Generated passwords are hashed with apr1 (fast for nginx), given ones with bcrypt. A
generated password's bcrypt hash, as release 0.1.0 wrote it, is rehashed once and then
kept; check mode generates no password file and applies nothing.
"""

import base64
import re

from passlib.hash import apr_md5_crypt, bcrypt

from tests.integration.test_apply_roles import play, secret_users
from tests.playbook import recap

GIVEN = "Given-Grafana-Password-0123456789"
EXTERNAL = {"prometheus_external_access_platform": "kube_prometheus_stack",
            "prometheus_external_access_host": "prometheus.example.com",
            "prometheus_external_access_allowlist": ["192.0.2.0/24"],
            "prometheus_external_access_users": [{"username": "grafana", "password": GIVEN}, {"username": "federate"}]}
SECRET = "prometheus-external-basic-auth"


def test_generated_bcrypt_hash_from_0_1_0_is_rehashed_once_to_apr1(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("hash-upgrade")
    variables = dict(EXTERNAL, prometheus_external_access_namespace="hash-upgrade")
    play(tmp_path, plane, ["prometheus_external_access"], **variables)
    generated = (tmp_path / "credentials" / "federate").read_text().split()[0]
    first = secret_users(plane, "hash-upgrade")
    assert first["grafana"].startswith("$2y$05$") and bcrypt.verify(GIVEN, first["grafana"])
    assert first["federate"].startswith("$apr1$") and apr_md5_crypt.verify(generated, first["federate"])

    # What 0.1.0 left in the cluster: the generated password hashed with bcrypt cost 5.
    secret = plane.get("v1", "Secret", SECRET, "hash-upgrade")
    old = dict(first, federate=bcrypt.using(ident="2y", rounds=5).hash(generated))
    auth = "".join("{0}:{1}\n".format(user, old[user]) for user in ("grafana", "federate"))
    plane.apply({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": SECRET, "namespace": "hash-upgrade", "labels": secret["metadata"]["labels"]},
                 "type": secret.get("type", "Opaque"), "data": {"auth": base64.b64encode(auth.encode()).decode()}},
                manager="k8s-monitoring-prometheus")

    upgraded = play(tmp_path, plane, ["prometheus_external_access"], **variables)
    assert re.search(r"changed_users:\s*\n\s*- federate\n", upgraded.stdout), upgraded.stdout
    after = secret_users(plane, "hash-upgrade")
    assert after["grafana"] == first["grafana"]  # the given password's hash is kept
    assert after["federate"].startswith("$apr1$") and apr_md5_crypt.verify(generated, after["federate"])

    steady = play(tmp_path, plane, ["prometheus_external_access"], **variables)
    assert recap(steady.stdout)["cluster"]["changed"] == 0
    assert secret_users(plane, "hash-upgrade") == after


def test_check_mode_in_apply_mode_generates_no_password_file(control_plane, tmp_path):
    plane = control_plane
    plane.ensure_namespace("check-generated")
    result = play(tmp_path, plane, ["prometheus_external_access"], extra_args=("--check",),
                  **dict(EXTERNAL, prometheus_external_access_namespace="check-generated"))
    assert recap(result.stdout)["cluster"]["changed"] > 0
    assert "Would generate passwords for federate in" in " ".join(result.stdout.split())
    assert not (tmp_path / "credentials").exists()
    assert plane.list("v1", "Secret", "check-generated", label_selector="app.kubernetes.io/managed-by") == []
