"""The {SHA} lines the module writes for Envoy Gateway verify with Apache's own htpasswd (apache2-utils)."""

import base64
import json
import secrets
import string
import subprocess

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import htpasswd_users
from tests.integration import services

# ansible.builtin.password's default characters (letters, digits and ".,:-_"): what the role generates.
ALPHABET = string.ascii_letters + string.digits + ".,:-_"


def test_envoy_htpasswd_lines_verify_with_apache_htpasswd(tmp_path):
    htpasswd = services.binary("htpasswd")
    users = [{"username": "user{0}".format(length), "generated": True,
              "password": "".join(secrets.choice(ALPHABET) for _position in range(length))} for length in (22, 32, 64)]
    result = htpasswd_users.build(dict(
        name="basic-auth", namespace="monitoring", users=users, scheme="sha1", generated_scheme="sha1",
        format="envoy-htpasswd", min_password_length=16, component="prometheus_external_access"), False)
    text = base64.b64decode(result["secret"]["data"][".htpasswd"]).decode()
    path = tmp_path / ".htpasswd"
    path.write_text(text)
    for user in users:
        ok = subprocess.run([htpasswd, "-vb", str(path), user["username"], user["password"]],
                            capture_output=True, check=False)
        bad = subprocess.run([htpasswd, "-vb", str(path), user["username"], user["password"] + "x"],
                             capture_output=True, check=False)
        assert ok.returncode == 0, ok.stderr
        assert bad.returncode != 0
        for where in (text, json.dumps(result)):
            assert user["password"] not in where
