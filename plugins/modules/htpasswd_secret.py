#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: htpasswd_secret
short_description: Hash users and passwords into an ingress-nginx or Envoy Gateway basic-auth Secret
version_added: 0.1.0
description:
  - Builds the Secret that ingress-nginx's C(auth-secret) annotation points at, in the
    htpasswd file format under key C(auth) (C(auth-secret-type) C(auth-file)), or one key
    per user (C(auth-map)); or the Secret an Envoy Gateway C(SecurityPolicy)'s
    C(basicAuth.users) names, htpasswd lines under key C(.htpasswd) (O(format=envoy-htpasswd)).
  - Given the current content (O(current_secret), O(current_secret_file) or
    O(current_content)), a user whose password still verifies and whose scheme and cost
    are unchanged keeps its exact hash, so a re-run reports no change.
  - Changed password, scheme or cost, added or removed user give new content, C(changed),
    and the user names in RV(changed_users) / RV(removed_users).
  - Never returns or logs a password. Runs on the controller as an action plugin; it
    builds the manifest only and never contacts a cluster.
  - nginx verifies the hash on every request in its worker process, so a slow hash costs
    ingress CPU per request. Generated passwords (C(generated=true)) are hashed with the fast
    O(generated_scheme) (C(apr1) by default); with about 190 bits of entropy they need no slow
    hash against offline guessing. User-chosen passwords keep O(scheme) (C(bcrypt) by default).
    See the role README of C(prometheus_external_access) for measured figures per scheme and cost.
  - Envoy Gateway accepts only unsalted SHA-1 (C({SHA}), O(scheme=sha1)) hashes, which resist offline
    guessing only for random passwords of at least 128 bits. With C(sha1) as O(scheme) or
    O(generated_scheme), a user that is not C(generated) is refused, and so is a generated password
    shorter than 22 characters (22 random letters and digits are about 131 bits).
  - A generated password's hash in another scheme (the C(bcrypt) hash release 0.1.0 wrote) is
    rehashed once to O(generated_scheme), reported in RV(changed_users); then it is kept.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
requirements:
  - libpass (imported as passlib) and bcrypt on the controller
options:
  name:
    description: Name of the Secret.
    type: str
    required: true
  namespace:
    description: Namespace of the Secret (ingress-nginx refuses an auth Secret from another namespace).
    type: str
    required: true
  users:
    description:
      - The users, each a mapping with C(username) and C(password).
      - Usernames must be unique and must not contain C(:) or a line break; passwords must
        not be empty or contain a line break, and with C(bcrypt) must fit in 72 bytes.
    type: list
    elements: dict
    required: true
    suboptions:
      username:
        description: User name.
        type: str
        required: true
      password:
        description:
          - Password; never logged or returned.
          - Required, except with O(validate_only=true) for a C(generated) user whose password
            does not exist yet.
        type: str
      generated:
        description: The password was generated (not chosen by a person); it is hashed with O(generated_scheme).
        type: bool
        default: false
      password_source:
        description:
          - Where the password was read from, for example the file of a generated password.
          - When that password fails the checks, the message names this place and says to delete
            it to have a new one generated (never the password itself).
        type: str
  scheme:
    description:
      - Hash scheme. C(bcrypt) is written with the C($2y$) prefix (Apache and nginx compatible),
        C(apr1) is Apache MD5 (what the Deckhouse example uses), C(sha512) is SHA-512 crypt (C($6$)),
        C(sha1) is unsalted SHA-1 (C({SHA}) and the base64 digest, Apache's C(htpasswd -s)), the only
        scheme Envoy Gateway accepts.
      - C(sha1) takes generated passwords only (see the description).
    type: str
    default: bcrypt
    choices: [bcrypt, apr1, sha512, sha1]
  cost:
    description:
      - bcrypt cost (4-31, default 5) or sha512-crypt rounds (1000 and up, default 5000);
        ignored for C(apr1) and C(sha1).
    type: int
  generated_scheme:
    description:
      - Hash scheme of the C(generated) users' passwords, with the same choices as O(scheme).
      - C(apr1) (the default) is the fastest of these schemes in nginx (its own code); C(sha512)
        at its lowest 1000 rounds is about four times slower, C(bcrypt) cost 5 about seven times.
      - Must be C(sha1) with O(format=envoy-htpasswd).
    type: str
    default: apr1
    choices: [bcrypt, apr1, sha512, sha1]
  generated_cost:
    description: Like O(cost), for O(generated_scheme).
    type: int
  format:
    description:
      - C(auth-file) writes one C(auth) key in htpasswd format; C(auth-map) one key per user (both for ingress-nginx).
      - C(envoy-htpasswd) writes one C(.htpasswd) key in htpasswd format, for Envoy Gateway's C(basicAuth);
        it needs O(generated_scheme=sha1).
      - The Secret's type is C(Opaque) in every format.
    type: str
    default: auth-file
    choices: [auth-file, auth-map, envoy-htpasswd]
  min_password_length:
    description: Passwords shorter than this are rejected, naming the user.
    type: int
    default: 16
  current_secret:
    description: The live Secret as C(kubernetes.core.k8s_info) returns it; hashes that still verify are kept.
    type: dict
  current_secret_file:
    description: A previously rendered Secret file (render mode); ignored when it does not exist.
    type: path
  current_content:
    description: Current htpasswd text; takes precedence over O(current_secret) and O(current_secret_file).
    type: str
  component:
    description: Role name put into the ownership labels of the Secret.
    type: str
    default: htpasswd_secret
  variable_name:
    description: Name used for O(users) in error messages, for example the calling role's variable.
    type: str
    default: users
  validate_only:
    description:
      - Only check the inputs (before the caller reads any live state or generates a password);
        returns nothing else.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Builds the same result; the module never changes anything itself.
  diff_mode:
    support: none
    description: The module changes nothing; the files or objects built from its result show their diff where they are written.
"""

EXAMPLES = r"""
- name: Build the basic-auth Secret for the Prometheus Ingress
  k8s_monitoring.prometheus.htpasswd_secret:
    name: basic-auth
    namespace: d8-monitoring
    users:
      - username: grafana
        password: "{{ grafana_prometheus_password }}"
      - username: federate
        password: "{{ lookup('ansible.builtin.password', 'credentials/federate', length=32) }}"
        generated: true
        password_source: credentials/federate
    scheme: bcrypt
    cost: 5
    current_secret: "{{ live_secret.resources | first | default(omit) }}"
  register: auth_secret

- name: Build the basic-auth Secret for an Envoy Gateway SecurityPolicy (generated passwords only)
  k8s_monitoring.prometheus.htpasswd_secret:
    name: basic-auth
    namespace: monitoring
    users:
      - username: federate
        password: "{{ lookup('ansible.builtin.password', 'credentials/federate', length=32) }}"
        generated: true
        password_source: credentials/federate
    scheme: sha1
    generated_scheme: sha1
    format: envoy-htpasswd
  register: envoy_auth_secret
"""

RETURN = r"""
secret:
  description: The Secret manifest (hashes only), with the ownership labels of O(component).
  returned: success
  type: dict
manifests:
  description: The same Secret as a one-element list, ready for the manifests role.
  returned: success
  type: list
  elements: dict
changed_users:
  description: Users whose hash was (re)computed - new users, changed password, scheme or cost.
  returned: success
  type: list
  elements: str
removed_users:
  description: Users present in the current content and no longer wanted.
  returned: success
  type: list
  elements: str
scheme:
  description: The scheme used.
  returned: success
  type: str
cost:
  description: The bcrypt cost or sha512 rounds used (null for apr1 and sha1).
  returned: success
  type: int
generated_scheme:
  description: The scheme used for the C(generated) users.
  returned: success
  type: str
generated_cost:
  description: The cost used for the C(generated) users (null for apr1 and sha1).
  returned: success
  type: int
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.htpasswd_users import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
