#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prune_owned
short_description: Delete objects a role of this collection made earlier and no longer wants
version_added: 0.1.0
description:
  - Lists objects of O(kinds) that carry this collection's ownership labels for
    O(component) (C(app.kubernetes.io/managed-by=k8s_monitoring.prometheus) and
    C(prometheus.k8s-monitoring.io/role=<component>)), and with O(instance) also
    C(prometheus.k8s-monitoring.io/instance=<instance>), and deletes those that are not
    in O(wanted). With an empty O(wanted) it removes everything this use of the role made.
  - Objects without these labels are never touched.
  - Kinds whose API the cluster does not serve are skipped, since no object of them can exist.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  component:
    description: The role whose objects are considered.
    type: str
    required: true
  instance:
    description:
      - Which use of the role made the objects (the C(<role>_instance) of the roles, by default the namespace
        they work in). Objects of other instances of the same role are kept.
      - Unset considers every object of O(component), whatever its instance.
    type: str
  kinds:
    description: The kinds the role may have created.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: Group and version.
        type: str
        required: true
      kind:
        description: Kind.
        type: str
        required: true
  wanted:
    description: The manifests of the current run; objects with the same group, kind, namespace and name are kept.
    type: list
    elements: dict
    default: []
  namespaces:
    description: Only look in these namespaces (cluster-scoped kinds are always looked up cluster-wide). Empty means all namespaces.
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
- name: Remove NetworkPolicies of components that were switched off
  k8s_monitoring.prometheus.prune_owned:
    component: network_policies
    kinds:
      - {api_version: networking.k8s.io/v1, kind: NetworkPolicy}
    wanted: "{{ build.manifests }}"
"""

RETURN = r"""
pruned:
  description: The objects deleted (in check mode, that would be deleted), as C(Kind namespace/name).
  returned: always
  type: list
  elements: str
  sample: ["NetworkPolicy monitoring/allow-grafana-ui"]
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
    describe_object,
    input_problem,
    find_missing_apis,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import (
    label_selector,
    select_prunable,
)


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        component=dict(type="str", required=True),
        instance=dict(type="str"),
        kinds=dict(type="list", elements="dict", required=True, options=copy.deepcopy(API_REF_OPTIONS)),
        wanted=dict(type="list", elements="dict", default=[]),
        namespaces=dict(type="list", elements="str", default=[]),
    )
    return spec


def list_owned(client, kinds, component, namespaces, instance=None):
    selector = label_selector(component, instance)
    found = []
    served = [k for k in kinds if k not in find_missing_apis(client.resource, kinds)]
    for api in served:
        resource = client.resource(api["kind"], api["api_version"])
        scopes = namespaces if (resource.namespaced and namespaces) else [None]
        for namespace in scopes:
            listing = client.get(resource, namespace=namespace, label_selector=selector)
            for item in listing.to_dict().get("items", []):
                item.setdefault("apiVersion", api["api_version"])
                item.setdefault("kind", api["kind"])
                found.append((resource, item))
    return found


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    problem = input_problem(params, "kinds") or connection_settings_problem(params)
    if problem:
        module.fail_json(msg=problem)
    pruned = []
    try:
        client = get_api_client(module=module)
        owned = list_owned(client, params["kinds"], params["component"], params["namespaces"], params["instance"])
        resources = dict((id(item), resource) for resource, item in owned)
        for obj in select_prunable([item for _resource, item in owned], params["wanted"], params["component"],
                                   params["instance"]):
            pruned.append(describe_object(obj))
            if not module.check_mode:
                metadata = obj["metadata"]
                client.delete(resources[id(obj)], name=metadata["name"], namespace=metadata.get("namespace"))
    except Exception as err:
        module.fail_json(msg=api_error_message(err, params.get("host")), pruned=pruned)
    module.exit_json(changed=bool(pruned), pruned=pruned)


if __name__ == "__main__":
    main()
