"""Scheme sha1 and format envoy-htpasswd (Envoy Gateway basic auth): {SHA} hashes, generated passwords only."""

import base64
import hashlib
import json

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import htpasswd_users
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

GENERATED = "Zq8vN3kLr2XwT9bHc4Ym7PdA"  # 24 letters and digits, like the role's generated ones
GIVEN = "correct-horse-battery-staple"
VARIABLE = "prometheus_external_access_users"


def build(users, **params):
    merged = dict(name="basic-auth", namespace="monitoring", users=users, scheme="sha1", generated_scheme="sha1",
                  format="envoy-htpasswd", min_password_length=16, component="prometheus_external_access",
                  variable_name=VARIABLE)
    merged.update(params)
    return htpasswd_users.build(merged, False)


def htpasswd_text(result):
    return base64.b64decode(result["secret"]["data"][".htpasswd"]).decode()


def generated(username="federate", password=GENERATED, **extra):
    return dict(username=username, password=password, generated=True, **extra)


def test_sha_hash_is_apaches_htpasswd_s_format_under_the_envoy_key():
    """{SHA} + base64(SHA-1(password)): what `htpasswd -s` writes and Envoy Gateway's CRD asks for."""
    result = build([generated()])
    secret = result["secret"]
    assert set(secret["data"]) == {".htpasswd"} and secret["type"] == "Opaque"
    digest = base64.b64encode(hashlib.sha1(GENERATED.encode()).digest()).decode()
    assert htpasswd_text(result) == "federate:{SHA}" + digest + "\n"
    assert htpasswd_users.scheme_of("{SHA}" + digest) == ("sha1", None)
    assert (result["scheme"], result["cost"], result["generated_cost"]) == ("sha1", None, None)
    assert GENERATED not in json.dumps(result)


def test_rerun_keeps_the_hash_byte_for_byte(tmp_path):
    users = [generated(), generated("grafana", GENERATED[::-1])]
    first = build(users)
    again = build(users, current_secret=first["secret"])
    assert again["changed"] is False and again["changed_users"] == [] and again["secret"] == first["secret"]
    path = tmp_path / "monitoring.secret.basic-auth.yaml"
    path.write_text(yaml.safe_dump(first["secret"]))
    assert htpasswd_users.format_of_secret(first["secret"]) == "envoy-htpasswd"
    assert build(users, current_secret_file=str(path))["changed"] is False


def test_other_hash_rehashed_to_sha_and_format_switch_keeps_sha():
    users = [generated()]
    nginx = build(users, scheme="bcrypt", generated_scheme="apr1", format="auth-file")
    envoy = build(users, current_secret=nginx["secret"])
    assert envoy["changed"] and envoy["changed_users"] == ["federate"]
    assert htpasswd_text(envoy).startswith("federate:{SHA}")
    auth_file = build(users, format="auth-file", current_secret=envoy["secret"])
    assert auth_file["changed"] and auth_file["changed_users"] == []  # only the key moved


@pytest.mark.parametrize("params", [
    {}, {"scheme": "bcrypt"}, {"generated_scheme": "apr1", "format": "auth-file"}, {"validate_only": True},
])
def test_a_user_chosen_password_is_refused_saying_why(params):
    with pytest.raises(ValidationError) as err:
        build([{"username": "grafana", "password": GIVEN}, generated()], **params)
    message = str(err.value)
    assert message == (
        "prometheus_external_access_users[0] (user 'grafana'): Envoy Gateway's basic auth accepts only unsalted "
        "SHA-1 ({SHA}) hashes, which resist offline guessing only for random passwords of at least 128 bits, so "
        "this flavour takes only generated passwords; remove the password to have one generated")
    assert GIVEN not in message and GIVEN not in repr(err.value.__dict__)


def test_min_generated_length_is_128_bits_of_letters_and_digits():
    import math
    n = htpasswd_users.SHA1_MIN_GENERATED_LENGTH
    assert n * math.log2(62) >= 128 > (n - 1) * math.log2(62)


def test_a_short_generated_password_is_refused_naming_its_file():
    source = "/home/me/.ansible/credentials/c1/prometheus_external_access/federate"
    short = GENERATED[:21]
    with pytest.raises(ValidationError) as err:
        build([generated(password=short, password_source=source)])
    message = str(err.value)
    assert message.startswith(VARIABLE + "[0] (user 'federate'): the password stored in " + source +
                              " is shorter than 22 characters, the least that gives 128 random bits")
    assert message.endswith("delete it and run again to have a new one generated") and short not in message
    with pytest.raises(ValidationError) as err:
        build([generated(password=short)])
    assert "(user 'federate'): password is shorter than 22 characters" in str(err.value)
    assert build([generated(password=GENERATED[:22])])["changed"]


def test_validate_only_takes_generated_users_before_their_password_exists():
    assert build([{"username": "federate", "generated": True}], validate_only=True) == {"changed": False}


def test_envoy_format_needs_sha1():
    with pytest.raises(ValidationError) as err:
        build([generated()], generated_scheme="apr1")
    assert "generated_scheme: expected sha1 with format envoy-htpasswd" in str(err.value)
