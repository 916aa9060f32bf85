# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users and passwords to a basic-auth Secret (htpasswd format) for ingress-nginx or Envoy Gateway.

Hashing and parsing use passlib (the maintained ``libpass`` fork): ``HtpasswdFile``
reads and writes the file, ``bcrypt`` (ident ``2y``), ``apr_md5_crypt``,
``sha512_crypt`` and ``ldap_sha1`` (``{SHA}``, Apache's ``htpasswd -s``) hash. An
existing hash is kept byte for byte when its user's password still verifies and its
scheme and cost are unchanged, so a re-run changes nothing and the ingress
controller does not reload for nothing.

Generated passwords (``generated: true``) are hashed with ``generated_scheme``
(apr1 by default), user-chosen ones with ``scheme`` (bcrypt by default): nginx
verifies the hash on every request, and a slow hash only helps a guessable password.

Nothing here ever puts a password into a message or a result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership, validation
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

try:
    from passlib.apache import HtpasswdFile
    from passlib.hash import apr_md5_crypt, bcrypt, ldap_sha1, sha512_crypt
    HAS_PASSLIB = True
except ImportError:  # reported as a clear failure by build()
    HAS_PASSLIB = False

SCHEMES = ("bcrypt", "apr1", "sha512", "sha1")
DEFAULT_SCHEME = "bcrypt"
# Chosen from bench/htpasswd_bench.py: nginx verifies the hash on every request in
# its worker, so the cost is paid per request (see the role README for the figures).
# A generated password (190 bits) needs no slow hash against offline guessing; apr1 is
# the fastest of these schemes in nginx (its own code, about 7x bcrypt cost 5 and
# 4x sha512-crypt at its lowest 1000 rounds).
DEFAULT_GENERATED_SCHEME = "apr1"
DEFAULT_COST = {"bcrypt": 5, "sha512": 5000, "apr1": None, "sha1": None}
COST_RANGE = {"bcrypt": (4, 31), "sha512": (1000, 999999999)}
BCRYPT_MAX_BYTES = 72
DEFAULT_MIN_PASSWORD_LENGTH = 16
# Envoy Gateway's SecurityPolicy basicAuth accepts only {SHA} hashes: one unsalted
# SHA-1, so billions of guesses per second on a GPU and no salt against precomputed
# tables. Only the password's own entropy protects it; 128 bits is out of reach of
# any offline search. The role generates letters and digits (and maybe more), and
# 22 of them carry at least 22 * log2(62) ~ 131 bits; 21 would be ~125.
SHA1_MIN_GENERATED_LENGTH = 22
SHA1_GIVEN_PASSWORD_REFUSED = (
    "Envoy Gateway's basic auth accepts only unsalted SHA-1 ({SHA}) hashes, which resist offline guessing only "
    "for random passwords of at least 128 bits, so this flavour takes only generated passwords; remove the "
    "password to have one generated")
# The key that holds the htpasswd lines, per format (auth-map has one key per user).
FILE_KEYS = {"auth-file": "auth", "envoy-htpasswd": ".htpasswd"}
FORMATS = ("auth-file", "auth-map", "envoy-htpasswd")


def _handler(scheme, cost):
    if scheme == "bcrypt":
        return bcrypt.using(ident="2y", rounds=cost)
    if scheme == "sha512":
        return sha512_crypt.using(rounds=cost)
    if scheme == "sha1":
        return ldap_sha1
    return apr_md5_crypt


def scheme_of(hash_value):
    """(scheme, cost) of an htpasswd hash, or (None, None) for anything else."""
    if bcrypt.identify(hash_value):
        return "bcrypt", bcrypt.parsehash(hash_value)["rounds"]
    if sha512_crypt.identify(hash_value):
        return "sha512", sha512_crypt.parsehash(hash_value)["rounds"]
    if apr_md5_crypt.identify(hash_value):
        return "apr1", None
    if ldap_sha1.identify(hash_value):
        return "sha1", None
    return None, None


def _user_variable(variable, index, username=None):
    if isinstance(username, str) and username:
        return "{0}[{1}] (user {2!r})".format(variable, index, username)
    return "{0}[{1}]".format(variable, index)


def _password_problem(password, scheme, min_password_length):
    """(what is wrong, advice for a given password) or None."""
    if not isinstance(password, str) or password == "":
        return "must be a non-empty string", None
    if "\n" in password or "\r" in password:
        return "must not contain a line break", None
    if scheme == "bcrypt" and len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        return ("is longer than 72 bytes, which bcrypt cannot hash (it would silently ignore the rest)",
                "use a shorter one or another scheme")
    if len(password) < min_password_length:
        return ("is shorter than {0} characters".format(min_password_length),
                "use a longer one or let the role generate one")
    return None


def _refuse_password(where, user, problem):
    """Raise for a password problem (what is wrong, advice); a stored password's place is named."""
    if user.get("password_source"):
        raise ValidationError(where, "the password stored in {0} {1}; delete it and run again to have a new one "
                                     "generated".format(user["password_source"], problem[0]))
    raise ValidationError(where, "password {0}".format(problem[0]) + ("; " + problem[1] if problem[1] else ""))


def check_unsalted_sha1(user, where, scheme, generated_scheme):
    """The rule of ``sha1`` (Envoy Gateway): only generated passwords, of at least 128 random bits.

    ``sha1`` as either scheme means the Envoy flavour, whose file may hold nothing but
    ``{SHA}`` hashes, so a user-chosen password is refused whichever scheme would hash it.
    """
    if "sha1" not in (scheme, generated_scheme):
        return
    if not user.get("generated"):
        raise ValidationError(where, SHA1_GIVEN_PASSWORD_REFUSED)
    password = user.get("password")
    if isinstance(password, str) and 0 < len(password) < SHA1_MIN_GENERATED_LENGTH:
        _refuse_password(where, user, (
            "is shorter than {0} characters, the least that gives 128 random bits for an unsalted SHA-1 "
            "({{SHA}}) hash".format(SHA1_MIN_GENERATED_LENGTH), "generate a longer one"))


def validate_users(users, scheme, min_password_length, variable="users", generated_scheme=DEFAULT_GENERATED_SCHEME,
                   passwords_known=True):
    """Check every user; messages name the user, never the password.

    A user whose password was read from somewhere (``password_source``, a generated
    password's file) gets a message naming that place and how to replace it. With
    ``passwords_known`` false, a generated user may come without its password (it is
    checked before the password is generated).
    """
    if not isinstance(users, list) or not users:
        raise ValidationError(variable, "expected a non-empty list of {username, password}")
    seen = set()
    for index, user in enumerate(users):
        if not isinstance(user, dict):
            raise ValidationError(_user_variable(variable, index), "expected a mapping with username and password",
                                  show_value=False)
        username = user.get("username")
        where = _user_variable(variable, index, username)
        validation.basic_auth_username(where + ".username", username)
        if username in seen:
            raise ValidationError(where, "duplicate username")
        seen.add(username)
        check_unsalted_sha1(user, where, scheme, generated_scheme)
        if user.get("generated") and user.get("password") is None and not passwords_known:
            continue
        problem = _password_problem(user.get("password"), generated_scheme if user.get("generated") else scheme,
                                    min_password_length)
        if problem is not None:
            _refuse_password(where, user, problem)


def resolve_cost(scheme, cost, variable="cost", scheme_variable="scheme"):
    if scheme not in SCHEMES:
        raise ValidationError(scheme_variable, "expected one of {0}".format(", ".join(SCHEMES)), scheme)
    if DEFAULT_COST[scheme] is None:  # apr1 and sha1 have no cost
        return None
    if cost is None:
        return DEFAULT_COST[scheme]
    low, high = COST_RANGE[scheme]
    if isinstance(cost, bool) or not isinstance(cost, int) or not low <= cost <= high:
        raise ValidationError(variable, "expected a {0} cost from {1} to {2}".format(scheme, low, high), cost)
    return cost


def parse_current(content):
    """An HtpasswdFile from htpasswd text (empty or None: an empty file)."""
    if not content:
        return HtpasswdFile(new=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    try:
        return HtpasswdFile.from_string(content)
    except ValueError:
        # A malformed current file is replaced; nothing in it can be trusted for reuse.
        return HtpasswdFile(new=True)


def _decode(value):
    try:
        return base64.b64decode(value).decode("utf-8")
    except (ValueError, TypeError, UnicodeDecodeError):
        return ""


def content_from_secret(secret):
    """htpasswd text from a Secret object (``auth`` or ``.htpasswd`` key, or the ``auth-map`` form)."""
    if not secret:
        return ""
    data = secret.get("data") or {}
    string_data = secret.get("stringData") or {}
    for key in FILE_KEYS.values():
        if key in string_data:
            return string_data[key]
        if key in data:
            return _decode(data[key])
    entries = dict((k, _decode(v)) for k, v in data.items())
    entries.update(string_data)
    return "".join("{0}:{1}\n".format(k, v) for k, v in sorted(entries.items()) if ":" not in k and v)


def _load_yaml_file(path):
    if not path or not os.path.isfile(path):
        return None
    import yaml  # only needed in render mode
    with open(path, "r", encoding="utf-8") as handle:
        try:
            loaded = yaml.safe_load(handle)
        except yaml.YAMLError:
            return None
    return loaded if isinstance(loaded, dict) else None


def content_from_file(path):
    """htpasswd text from a previously rendered Secret file; '' when it does not exist."""
    return content_from_secret(_load_yaml_file(path))


def format_of_secret(secret):
    if not secret:
        return None
    keys = set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())
    return next((name for name, key in FILE_KEYS.items() if key in keys), "auth-map")


def hash_users(users, scheme, cost, current_content, generated_scheme=DEFAULT_GENERATED_SCHEME, generated_cost=None):
    """Return (entries, changed_users, removed_users); entries is [(username, hash)] in input order.

    A hash is kept only when it has the wanted scheme and cost and verifies, so a
    generated password's bcrypt hash from an older release is rehashed once to
    ``generated_scheme`` (and a given password's apr1 hash once to ``scheme``).
    """
    current = parse_current(current_content)
    wanted = {False: (scheme, cost), True: (generated_scheme, generated_cost)}
    entries, changed = [], []
    for user in users:
        username, password = user["username"], user["password"]
        user_scheme, user_cost = wanted[bool(user.get("generated"))]
        handler = _handler(user_scheme, user_cost)
        existing = current.get_hash(username)
        if existing is not None:
            existing = existing.decode("ascii") if isinstance(existing, bytes) else existing
            if scheme_of(existing) == (user_scheme, user_cost) and handler.verify(password, existing):
                entries.append((username, existing))
                continue
        entries.append((username, handler.hash(password)))
        changed.append(username)
    kept = set(u["username"] for u in users)
    removed = sorted(u for u in current.users() if u not in kept)
    return entries, changed, removed


def to_htpasswd(entries):
    result = HtpasswdFile(new=True)
    for username, hash_value in entries:
        result.set_hash(username, hash_value)
    return result.to_string().decode("utf-8")


def secret_manifest(name, namespace, entries, secret_format, component):
    if secret_format == "auth-map":
        data = dict(entries)
    else:
        data = {FILE_KEYS[secret_format]: to_htpasswd(entries)}
    return ownership.secret(name, namespace, data, component)  # type Opaque, what both proxies read


ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    users=dict(type="list", elements="dict", required=True, options=dict(
        username=dict(type="str", required=True),
        # Required unless validate_only and generated (checked in validate_users).
        password=dict(type="str", no_log=True),
        generated=dict(type="bool", default=False),
        password_source=dict(type="str", no_log=False),  # a file path or Secret name, not a secret
    )),
    scheme=dict(type="str", default=DEFAULT_SCHEME, choices=list(SCHEMES)),
    cost=dict(type="int"),
    generated_scheme=dict(type="str", default=DEFAULT_GENERATED_SCHEME, choices=list(SCHEMES)),
    generated_cost=dict(type="int"),
    format=dict(type="str", default="auth-file", choices=list(FORMATS)),
    min_password_length=dict(type="int", default=DEFAULT_MIN_PASSWORD_LENGTH, no_log=False),
    # Hashes, not passwords; no_log here would make AnsibleModule mask the unchanged
    # base64 values in the returned Secret and break it. The role's task is no_log.
    current_secret=dict(type="dict", no_log=False),
    current_secret_file=dict(type="path"),
    current_content=dict(type="str", no_log=True),
    component=dict(type="str", default="htpasswd_secret"),
    variable_name=dict(type="str", default="users"),
    validate_only=dict(type="bool", default=False),
)


def build(params, check_mode=False):
    """Builder entry point shared by the module and its action plugin."""
    if not HAS_PASSLIB:
        raise ValidationError("passlib", "the libpass Python package (imported as passlib) is required on the "
                                         "controller: pip install libpass")
    variable = params.get("variable_name") or "users"
    name = validation.dns1123_subdomain("name", params["name"])
    namespace = validation.dns1123_label("namespace", params["namespace"])
    scheme = params.get("scheme") or DEFAULT_SCHEME
    cost = resolve_cost(scheme, params.get("cost"))
    generated_scheme = params.get("generated_scheme") or DEFAULT_GENERATED_SCHEME
    generated_cost = resolve_cost(generated_scheme, params.get("generated_cost"), "generated_cost", "generated_scheme")
    secret_format = validation.one_of("format", params.get("format") or "auth-file", FORMATS)
    if secret_format == "envoy-htpasswd" and generated_scheme != "sha1":
        # Envoy answers 401 to any other hash; say so now rather than after the apply.
        raise ValidationError("generated_scheme", "expected sha1 with format envoy-htpasswd (Envoy Gateway accepts "
                                                  "only {SHA} hashes)", generated_scheme)
    min_length = params.get("min_password_length")
    if min_length is None:
        min_length = DEFAULT_MIN_PASSWORD_LENGTH
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
        raise ValidationError("min_password_length", "expected a positive integer", min_length)
    users = params.get("users")
    validate_users(users, scheme, min_length, variable, generated_scheme,
                   passwords_known=not params.get("validate_only"))
    if params.get("validate_only"):
        return {"changed": False}

    current_format = secret_format
    if params.get("current_content") is not None:
        current_content = params["current_content"]
    elif params.get("current_secret"):
        current_content = content_from_secret(params["current_secret"])
        current_format = format_of_secret(params["current_secret"])
    else:
        current_content = content_from_file(params.get("current_secret_file"))
        current_format = format_of_secret(_load_yaml_file(params.get("current_secret_file")))

    entries, changed_users, removed_users = hash_users(users, scheme, cost, current_content, generated_scheme,
                                                       generated_cost)
    current_order = list(parse_current(current_content).users()) if current_content else None
    changed = (
        current_order is None
        or bool(changed_users or removed_users)
        or current_order != [entry[0] for entry in entries]
        or current_format != secret_format
    )
    component = params.get("component")
    component = validation.component("component", "htpasswd_secret" if component is None else component)
    manifest = secret_manifest(name, namespace, entries, secret_format, component)
    return {
        "changed": changed,
        "secret": manifest,
        "manifests": [manifest],
        "changed_users": changed_users,
        "removed_users": removed_users,
        "scheme": scheme,
        "cost": cost,
        "generated_scheme": generated_scheme,
        "generated_cost": generated_cost,
    }
