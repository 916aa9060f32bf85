#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_preflight
short_description: Check that the Kubernetes API answers and serves the APIs a role needs
version_added: 0.1.0
description:
  - Connects the way M(kubernetes.core.k8s) does (kubeconfig, context, or the
    C(K8S_AUTH_*) environment variables that AWX's Kubernetes credential injects).
  - Fails with one sentence naming what is missing when the kubeconfig file does
    not exist, no connection is configured, the API server does not answer, refuses
    the credentials, or does not serve one of O(required_apis) (a CRD that is not
    installed, named with where it comes from).
  - With O(objects), fails naming every namespace they go to that does not exist.
  - With O(objects) or O(prune_kinds), asks the API server (SelfSubjectAccessReview)
    whether the credentials may do what applying and pruning will do, and fails
    naming every verb, resource and namespace refused, before anything is written.
  - Reads only; never changes the cluster.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  required_apis:
    description: APIs that must be served.
    type: list
    elements: dict
    default: []
    suboptions:
      api_version:
        description: Group and version, such as C(monitoring.coreos.com/v1).
        type: str
        required: true
      kind:
        description: Kind, such as C(PodMonitor).
        type: str
        required: true
      source:
        description: Where the CRD comes from, for the error message.
        type: str
  objects:
    description:
      - The objects that will be applied, reduced to C(apiVersion), C(kind) and
        C(metadata.name) / C(metadata.namespace) (the P(k8s_monitoring.prometheus.object_refs#filter)
        filter). Each needs C(create) and C(patch) (server-side apply).
    type: list
    elements: dict
    default: []
  prune_kinds:
    description: Kinds that pruning lists and deletes (C(list) and C(delete) are checked).
    type: list
    elements: dict
    default: []
    suboptions:
      api_version:
        description: Group and version.
        type: str
        required: true
      kind:
        description: Kind.
        type: str
        required: true
  prune_namespaces:
    description: Namespaces pruning looks in; empty means all namespaces.
    type: list
    elements: str
    default: []
requirements:
  - kubernetes >= 24.2.0
attributes:
  check_mode:
    support: full
    description: Reports what would change without changing anything.
  diff_mode:
    support: none
    description: No diff is returned.
"""

EXAMPLES = r"""
- name: Check the cluster before applying PodMonitors
  k8s_monitoring.prometheus.cluster_preflight:
    kubeconfig: "{{ k8s_monitoring_kubeconfig | default(omit) }}"
    required_apis:
      - api_version: monitoring.coreos.com/v1
        kind: PodMonitor
"""

RETURN = r"""
server_version:
  description: The API server's version, as C(/version) reports it.
  returned: success
  type: dict
  sample: {"major": "1", "minor": "33", "gitVersion": "v1.33.1"}
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import (
    AUTH_ARG_SPEC,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import (
    AnsibleK8SModule,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    get_api_client,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.cluster import (
    API_REF_OPTIONS,
    api_error_message,
    connection_settings_problem,
    denied_access_message,
    find_denied_access,
    find_missing_apis,
    find_missing_namespaces,
    input_problem,
    missing_api_message,
    missing_namespaces_message,
    needed_access,
)


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec["required_apis"] = dict(
        type="list", elements="dict", default=[],
        options=dict(copy.deepcopy(API_REF_OPTIONS), source=dict(type="str")),
    )
    spec["objects"] = dict(type="list", elements="dict", default=[])
    spec["prune_kinds"] = dict(type="list", elements="dict", default=[], options=copy.deepcopy(API_REF_OPTIONS))
    spec["prune_namespaces"] = dict(type="list", elements="str", default=[])
    return spec


def access_review(client):
    reviews = client.resource("SelfSubjectAccessReview", "authorization.k8s.io/v1")

    def allowed(attributes):
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes}}
        return bool(reviews.create(body=body).to_dict().get("status", {}).get("allowed"))
    return allowed


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    problem = input_problem(module.params, "required_apis") or connection_settings_problem(module.params)
    if problem:
        module.fail_json(msg=problem)
    try:
        client = get_api_client(module=module)
        version = client.client.version.get("kubernetes", {})
        # kubernetes.core keeps API discovery in a cache file shared by every later task;
        # a CRD removed since it was written would still look served. Refresh it here.
        client.client.resources.invalidate_cache()
        missing = find_missing_apis(client.resource, module.params["required_apis"])
        if missing:
            module.fail_json(msg=missing_api_message(missing), missing_apis=missing)
        if module.params["objects"]:
            namespaces = client.resource("Namespace", "v1")
            missing_namespaces = find_missing_namespaces(lambda name: client.get(namespaces, name=name),
                                                         module.params["objects"])
            if missing_namespaces:
                module.fail_json(msg=missing_namespaces_message(missing_namespaces),
                                 missing_namespaces=missing_namespaces)
        needed = needed_access(module.params["objects"], module.params["prune_kinds"],
                               module.params["prune_namespaces"])
        denied = find_denied_access(client.resource, access_review(client), needed) if needed else []
    except Exception as err:  # every client failure becomes one sentence
        module.fail_json(msg=api_error_message(err, module.params.get("host")))
    if denied:
        module.fail_json(msg=denied_access_message(denied),
                         denied=[dict(verb=v, resource=r, namespace=n) for v, r, n in denied])
    module.exit_json(changed=False, server_version=version)


if __name__ == "__main__":
    main()
