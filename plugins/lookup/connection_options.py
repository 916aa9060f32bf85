# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: connection_options
short_description: The Kubernetes connection options set through the collection's k8s_monitoring_* variables
version_added: 0.2.0
description:
  - Returns a mapping of kubernetes.core connection options (C(kubeconfig), C(context), C(host), C(api_key),
    C(ca_cert), C(client_cert), C(client_key), C(validate_certs), C(proxy), C(no_proxy), C(impersonate_user),
    C(impersonate_groups)) for every C(k8s_monitoring_<option>) variable that is set, and nothing for the others.
  - The roles put it into task-level C(module_defaults) for the modules that talk to the cluster. An option
    that is not set is left out, not passed as C(omit) (which would discard the same option from a
    play's C(module_defaults)), so C(module_defaults) for C(group/k8s_monitoring.prometheus.cluster) or
    C(group/kubernetes.core.k8s), C(K8S_AUTH_*) environment variables and kubeconfig defaults still apply.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options: {}
"""

EXAMPLES = r"""
- name: Read a Secret with the collection's connection settings
  kubernetes.core.k8s_info:
    kind: Secret
    namespace: monitoring
    name: basic-auth
  module_defaults:
    kubernetes.core.k8s_info: "{{ lookup('k8s_monitoring.prometheus.connection_options') }}"
"""

RETURN = r"""
_raw:
  description: One mapping of option names to values.
  type: list
  elements: dict
"""

from ansible.plugins.lookup import LookupBase
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

# kubernetes.core's connection options a user may set as k8s_monitoring_<option>; user name and
# password (basic auth, refused by most clusters), proxy headers and persist_config are left out.
OPTIONS = tuple(sorted(set(AUTH_ARG_SPEC) - {"username", "password", "proxy_headers", "persist_config"}))


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        options = {}
        for option in OPTIONS:
            name = "k8s_monitoring_" + option
            if name in variables:
                value = self._templar.template(variables[name])
                if value is not None and value != "":
                    options[option] = value
        return [options]
