"""Credential hashing: every scheme, reuse without churn, rotation, removal, every rejection."""

import base64
import json
import os
import subprocess

import pytest
import yaml
from passlib.apache import HtpasswdFile

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import htpasswd_users
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

VENDOR_AUTH = "foo:$apr1$OFG3Xybp$ckL0FHDAkoXYIlH9.cysT0\n"
GOOD = "correct-horse-battery-staple"
OTHER = "another-long-password-42"


def build(users, **params):
    merged = dict(name="basic-auth", namespace="d8-monitoring", users=users, scheme="bcrypt", cost=None,
                  format="auth-file", min_password_length=16, current_secret=None, current_secret_file=None,
                  current_content=None, component="prometheus_external_access", variable_name="users")
    merged.update(params)
    return htpasswd_users.build(merged, False)


def auth_text(result):
    return base64.b64decode(result["secret"]["data"]["auth"]).decode()


@pytest.mark.parametrize("scheme,cost,prefix", [
    ("bcrypt", None, "$2y$05$"), ("bcrypt", 7, "$2y$07$"), ("apr1", None, "$apr1$"),
    ("sha512", None, "$6$"), ("sha512", 10000, "$6$rounds=10000$"),
])
def test_every_scheme_hashes_and_verifies(scheme, cost, prefix):
    result = build([{"username": "grafana", "password": GOOD}], scheme=scheme, cost=cost)
    text = auth_text(result)
    assert text.startswith("grafana:" + prefix)
    assert HtpasswdFile.from_string(text.encode()).check_password("grafana", GOOD)
    assert not HtpasswdFile.from_string(text.encode()).check_password("grafana", OTHER)
    assert result["changed"] and result["changed_users"] == ["grafana"]
    assert GOOD not in json.dumps(result)


def test_bcrypt_hash_verifies_with_apache_htpasswd(tmp_path):
    """The $2y$ hash is what Apache's own htpasswd (apache2-utils) accepts."""
    htpasswd = "/usr/bin/htpasswd"
    if not os.path.exists(htpasswd):
        pytest.skip("htpasswd not installed (Debian package apache2-utils)")
    path = tmp_path / "auth"
    path.write_text(auth_text(build([{"username": "grafana", "password": GOOD}])))
    ok = subprocess.run([htpasswd, "-vb", str(path), "grafana", GOOD], capture_output=True, check=False)
    bad = subprocess.run([htpasswd, "-vb", str(path), "grafana", OTHER], capture_output=True, check=False)
    assert ok.returncode == 0 and bad.returncode != 0


def test_verified_hashes_are_kept_exactly():
    users = [{"username": "grafana", "password": GOOD}, {"username": "federate", "password": OTHER}]
    first = build(users)
    second = build(users, current_secret=first["secret"])
    assert auth_text(second) == auth_text(first)
    assert second["changed"] is False and second["changed_users"] == [] and second["removed_users"] == []


def test_vendor_secret_verifies_and_is_kept():
    result = build([{"username": "foo", "password": "bar"}], scheme="apr1", min_password_length=3,
                   current_content=VENDOR_AUTH)
    assert auth_text(result) == VENDOR_AUTH
    assert result["changed"] is False


def test_rotation_changes_only_that_user():
    users = [{"username": "grafana", "password": GOOD}, {"username": "federate", "password": OTHER}]
    first = build(users)
    rotated = build([users[0], {"username": "federate", "password": OTHER + "-rotated"}],
                    current_secret=first["secret"])
    old_lines = auth_text(first).splitlines()
    new_lines = auth_text(rotated).splitlines()
    assert new_lines[0] == old_lines[0] and new_lines[1] != old_lines[1]
    assert rotated["changed"] and rotated["changed_users"] == ["federate"]


@pytest.mark.parametrize("change", [dict(scheme="sha512"), dict(cost=6), dict(scheme="apr1")])
def test_scheme_or_cost_change_rehashes(change):
    users = [{"username": "grafana", "password": GOOD}]
    first = build(users)
    second = build(users, current_secret=first["secret"], **change)
    assert second["changed"] and second["changed_users"] == ["grafana"]
    assert auth_text(second) != auth_text(first)


def test_added_and_removed_users():
    first = build([{"username": "grafana", "password": GOOD}, {"username": "old", "password": OTHER}])
    second = build([{"username": "grafana", "password": GOOD}, {"username": "new", "password": OTHER}],
                   current_secret=first["secret"])
    assert second["changed"] and second["changed_users"] == ["new"] and second["removed_users"] == ["old"]
    assert auth_text(second).splitlines()[0] == auth_text(first).splitlines()[0]
    removed_only = build([{"username": "grafana", "password": GOOD}], current_secret=first["secret"])
    assert removed_only["changed"] and removed_only["changed_users"] == [] and removed_only["removed_users"] == ["old"]


def test_auth_map_form_and_reuse():
    users = [{"username": "grafana", "password": GOOD}]
    first = build(users, format="auth-map")
    assert set(first["secret"]["data"]) == {"grafana"}
    second = build(users, format="auth-map", current_secret=first["secret"])
    assert second["changed"] is False and second["secret"] == first["secret"]
    switched = build(users, format="auth-file", current_secret=first["secret"])
    assert switched["changed"] and switched["changed_users"] == []


def test_current_secret_file_from_render_mode(tmp_path):
    users = [{"username": "grafana", "password": GOOD}]
    first = build(users)
    path = tmp_path / "d8-monitoring.secret.basic-auth.yaml"
    path.write_text(yaml.safe_dump(first["secret"]))
    assert build(users, current_secret_file=str(path))["changed"] is False
    assert build(users, current_secret_file=str(tmp_path / "missing.yaml"))["changed"] is True


def test_ownership_labels_and_schema():
    from tests.schema import validate_manifest
    secret = build([{"username": "grafana", "password": GOOD}])["secret"]
    assert secret["metadata"]["labels"]["prometheus.k8s-monitoring.io/role"] == "prometheus_external_access"
    validate_manifest(secret)


@pytest.mark.parametrize("users,params,fragment", [
    ([], {}, "users: expected a non-empty list"),
    ([{"username": "", "password": GOOD}], {}, "users[0].username: expected a non-empty user name"),
    ([{"username": "a", "password": GOOD}, {"username": "a", "password": OTHER}], {}, "users[1] (user 'a'): duplicate"),
    ([{"username": "a:b", "password": GOOD}], {}, "users[0] (user 'a:b').username: expected a non-empty user name without ':'"),
    ([{"username": "a\nb", "password": GOOD}], {}, "expected a non-empty user name without ':', control characters"),
    ([{"username": "grafana", "password": ""}], {}, "users[0] (user 'grafana'): password must be a non-empty"),
    ([{"username": "grafana", "password": GOOD + "\nx"}], {}, "(user 'grafana'): password must not contain a line break"),
    ([{"username": "grafana", "password": "x" * 73}], {}, "(user 'grafana'): password is longer than 72 bytes"),
    ([{"username": "grafana", "password": "tiny-pw1"}], {}, "(user 'grafana'): password is shorter than 16"),
    ([{"username": "grafana", "password": GOOD}], {"scheme": "md5"}, "scheme: expected one of"),
    ([{"username": "grafana", "password": GOOD}], {"cost": 3}, "cost: expected a bcrypt cost from 4 to 31"),
])
def test_rejections_name_the_user_not_the_password(users, params, fragment):
    with pytest.raises(ValidationError) as err:
        build(users, **params)
    assert fragment in str(err.value)
    for user in users:
        if len(user["password"]) > 3:
            assert user["password"] not in str(err.value)


def test_long_password_is_fine_with_sha512():
    result = build([{"username": "grafana", "password": "x" * 100}], scheme="sha512")
    assert HtpasswdFile.from_string(auth_text(result).encode()).check_password("grafana", "x" * 100)


def test_generated_passwords_get_the_fast_scheme_given_ones_keep_bcrypt():
    """12.16: nginx pays the hash on every request; only a guessable password needs a slow one."""
    users = [{"username": "grafana", "password": GOOD}, {"username": "federate", "password": OTHER, "generated": True}]
    result = build(users)
    lines = auth_text(result).splitlines()
    assert lines[0].startswith("grafana:$2y$05$") and lines[1].startswith("federate:$apr1$")
    assert (result["generated_scheme"], result["generated_cost"]) == ("apr1", None)
    htpasswd = HtpasswdFile.from_string(auth_text(result).encode())
    assert htpasswd.check_password("grafana", GOOD) and htpasswd.check_password("federate", OTHER)
    again = build(users, current_secret=result["secret"])
    assert again["changed"] is False and auth_text(again) == auth_text(result)


def test_generated_scheme_can_be_chosen():
    users = [{"username": "federate", "password": OTHER, "generated": True}]
    assert auth_text(build(users, generated_scheme="sha512", generated_cost=1000)).startswith("federate:$6$rounds=1000$")
    with pytest.raises(ValidationError) as err:
        build(users, generated_scheme="sha512", generated_cost=10)
    assert "generated_cost: expected a sha512 cost from 1000" in str(err.value)


def test_bcrypt_hash_of_a_generated_password_is_rehashed_once():
    """What 0.1.0 wrote for a generated password (bcrypt) becomes apr1 on the next run, then stays."""
    old = build([{"username": "federate", "password": OTHER}])
    assert auth_text(old).startswith("federate:$2y$")
    users = [{"username": "federate", "password": OTHER, "generated": True}]
    upgraded = build(users, current_secret=old["secret"])
    assert upgraded["changed"] and upgraded["changed_users"] == ["federate"]
    assert auth_text(upgraded).startswith("federate:$apr1$")
    assert build(users, current_secret=upgraded["secret"])["changed"] is False


def test_generated_passwords_longer_than_72_bytes_are_fine():
    """The 72-byte limit is bcrypt's; generated passwords are not bcrypt-hashed."""
    result = build([{"username": "federate", "password": "g" * 100, "generated": True}])
    assert HtpasswdFile.from_string(auth_text(result).encode()).check_password("federate", "g" * 100)


@pytest.mark.parametrize("password,fragment", [
    ("short-stored", "is shorter than 16 characters"),
    ("", "must be a non-empty string"),
    ("stored-password-with\nline-break", "must not contain a line break"),
])
def test_bad_stored_password_names_its_file_and_the_fix(password, fragment):
    """12.11: a password file that fails the checks is named with how to replace it, never shown."""
    source = "/home/me/.ansible/credentials/c1/prometheus_external_access/federate"
    with pytest.raises(ValidationError) as err:
        build([{"username": "grafana", "password": GOOD},
               {"username": "federate", "password": password, "generated": True, "password_source": source}],
              variable_name="prometheus_external_access_users")
    message = str(err.value)
    assert message.startswith("prometheus_external_access_users[1] (user 'federate'): the password stored in " + source)
    assert fragment in message and "delete it and run again to have a new one generated" in message
    assert not password or password not in message


def test_validate_only_accepts_generated_users_before_their_password_exists():
    """The role checks everything before the password lookup writes a file."""
    users = [{"username": "grafana", "password": GOOD}, {"username": "federate", "generated": True}]
    assert build(users, validate_only=True) == {"changed": False}
    with pytest.raises(ValidationError) as err:
        build([{"username": "grafana", "password": "tiny-pw1"}, {"username": "federate", "generated": True}],
              validate_only=True)
    assert "users[0] (user 'grafana'): password is shorter than 16" in str(err.value)
    with pytest.raises(ValidationError) as err:
        build([{"username": "federate", "generated": True}], scheme="md5", validate_only=True)
    assert "scheme: expected one of" in str(err.value)
    with pytest.raises(ValidationError) as err:
        build([{"username": "federate", "generated": True}])
    assert "users[0] (user 'federate'): password must be a non-empty string" in str(err.value)
