#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: server_side_apply
short_description: Server-side apply a list of Kubernetes objects in one call, with a diff per object
version_added: 0.2.0
description:
  - Applies every object of O(definitions) with server-side apply on one client, the
    way M(kubernetes.core.k8s) does (it is built on that collection's client and apply
    service), and reports a diff for each object that changes.
  - M(kubernetes.core.k8s) given a list nests each object's diff inside its result, where
    C(--diff) does not show it; this module returns them as a list the diff output shows,
    each headed by C(Kind namespace/name).
  - Check mode is a server-side dry run; nothing is written.
  - A field owned by another field manager fails, when O(force_conflicts=false), with one
    sentence naming the object, the fields and the other manager.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  definitions:
    description: The objects to apply.
    type: list
    elements: dict
    required: true
  field_manager:
    description: The server-side apply field manager.
    type: str
    default: k8s-monitoring-prometheus
  force_conflicts:
    description: Take over fields another field manager set.
    type: bool
    default: true
  hidden_fields:
    description: Paths left out of results and diffs (for Secrets, C(data) and C(stringData)).
    type: list
    elements: str
    default: [metadata.managedFields]
requirements:
  - kubernetes >= 24.2.0
attributes:
  check_mode:
    support: full
    description: A server-side dry run; nothing is written.
  diff_mode:
    support: full
    description: One diff per changed object, without the O(hidden_fields).
"""

EXAMPLES = r"""
- name: Apply the role's objects
  k8s_monitoring.prometheus.server_side_apply:
    definitions: "{{ build.manifests }}"
    kubeconfig: "{{ k8s_monitoring_kubeconfig | default(omit) }}"
"""

RETURN = r"""
changed_objects:
  description: The objects that changed (in check mode, that would change), as C(Kind namespace/name).
  returned: always
  type: list
  elements: str
  sample: ["NetworkPolicy monitoring/k8s-monitoring-default-deny-ingress"]
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import (
    AUTH_ARG_SPEC,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    get_api_client,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import (
    AnsibleK8SModule,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.runner import (
    perform_action,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import (
    K8sService,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.cluster import (
    api_error_message,
    apply_error_message,
    connection_settings_problem,
    describe_object,
    input_problem,
)


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        definitions=dict(type="list", elements="dict", required=True),
        field_manager=dict(type="str", default="k8s-monitoring-prometheus"),
        force_conflicts=dict(type="bool", default=True),
        hidden_fields=dict(type="list", elements="str", default=["metadata.managedFields"]),
    )
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    problem = input_problem(params) or connection_settings_problem(params)
    if problem:
        module.fail_json(msg=problem)
    # kubernetes.core's apply service reads these from the module's parameters.
    params["server_side_apply"] = dict(field_manager=params["field_manager"],
                                       force_conflicts=params["force_conflicts"])
    action = dict(apply=True, state="present", hidden_fields=params["hidden_fields"])
    changed, diffs = [], []
    try:
        svc = K8sService(get_api_client(module=module), module)
    except Exception as err:
        module.fail_json(msg=api_error_message(err, params.get("host")))
    for definition in params["definitions"]:
        name = describe_object(definition)
        try:
            result = perform_action(svc, copy.deepcopy(definition), action)
        except Exception as err:
            module.fail_json(msg=apply_error_message(name, err, params.get("host")), changed=bool(changed),
                             changed_objects=changed)
        if result["changed"]:
            changed.append(name)
            if "diff" in result:
                diffs.append(dict(result["diff"], before_header=name, after_header=name))
    module.exit_json(changed=bool(changed), changed_objects=changed, diff=diffs)


if __name__ == "__main__":
    main()
