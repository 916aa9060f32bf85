#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: render_manifests
short_description: Write Kubernetes manifests to files, one per object, with a kustomization
version_added: 0.1.0
description:
  - Writes the manifests of one role into O(dest)/O(component)/, one YAML file per
    object named C(<namespace>.<kind>.<name>.yaml) (C(cluster) for cluster-scoped
    objects), and a C(kustomization.yaml) that lists them sorted by file name
    (kustomize orders objects by kind itself).
  - Keeps O(dest)/kustomization.yaml listing every role directory, so
    C(kubectl apply -k <dest>) applies everything rendered for the cluster.
  - Files in the role directory that the current manifests do not produce are
    removed, so a component that was switched off disappears from the output; with
    O(instance), files whose object carries another instance label are kept (another
    use of the same role rendered them) and stay in the role's kustomization.
  - Output depends only on the input; re-rendering unchanged input changes no file.
  - Secret manifests are written with mode 0600 and their contents never appear in the diff.
  - Runs on the controller as an action plugin; no cluster is contacted.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  dest:
    description: Directory for this cluster's rendered output; created when missing.
    type: path
    required: true
  component:
    description: Name of the role directory below O(dest), usually the role's name.
    type: str
    required: true
  instance:
    description: The use of the role that renders (label C(prometheus.k8s-monitoring.io/instance)); unset treats every file as this run's.
    type: str
  manifests:
    description: Kubernetes objects to write, in the order they should be applied.
    type: list
    elements: dict
    default: []
  state:
    description: C(absent) removes the role directory's files and its entry in the top kustomization.
    type: str
    default: present
    choices: [present, absent]
attributes:
  check_mode:
    support: full
    description: Reports what would change without changing anything.
  diff_mode:
    support: full
    description: Shows the changed files; Secret contents are replaced by a placeholder.
"""

EXAMPLES = r"""
- name: Render the Istio manifests of this cluster
  k8s_monitoring.prometheus.render_manifests:
    dest: "build/rendered/{{ inventory_hostname }}"
    component: istio_metrics
    manifests: "{{ istio_build.manifests }}"
"""

RETURN = r"""
written:
  description: Files that were (or in check mode would be) created or rewritten.
  returned: always
  type: list
  elements: str
removed:
  description: Files that were (or would be) removed.
  returned: always
  type: list
  elements: str
files:
  description: Every file of the role directory after this run, kustomization included.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.render import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
