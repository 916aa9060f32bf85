#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pushgateway_build
short_description: Build the manifests of Pushgateway instances (Deckhouse ModuleConfig or own workloads)
version_added: 0.1.0
description:
  - Builder of the C(pushgateway) role; validates the inputs and returns manifests,
    never contacts a cluster. Runs on the controller as an action plugin.
  - O(preset=deckhouse) builds the C(prometheus-pushgateway) ModuleConfig. The role
    owns C(spec.settings.instances) - the list is replaced as a whole, so removing
    an instance from O(instances) removes it from the cluster.
  - O(preset=plain) builds, per instance, a Deployment (one replica, non-root, read-only
    root filesystem), a Service on port 9091, a ServiceMonitor and optionally a
    PersistentVolumeClaim (C(--persistence.file)) and a web-config Secret (basic-auth
    bcrypt hashes, TLS file paths).
  - O(preset=verrazzano) is O(preset=plain) in C(verrazzano-monitoring), with the label
    C(release=prometheus-operator) on every ServiceMonitor (Verrazzano's Prometheus
    selects monitors by it).
  - Private keys and plain-text passwords are never inputs; TLS material and scrape
    credentials are names of Secrets that already exist in the cluster.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  state:
    description: C(absent) is passed through; the manifests role then removes everything the role made.
    type: str
    default: present
    choices: [present, absent]
  preset:
    description: C(deckhouse) for the Deckhouse module; C(verrazzano) for OCNE / Verrazzano; C(plain) for any other cluster with prometheus-operator.
    type: str
    default: plain
    choices: [plain, verrazzano, deckhouse]
  instances:
    description: Pushgateway instances; at least one with O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Instance name (a DNS label); the Service and Deployment name.
        type: str
        required: true
      image:
        description: Image of this instance (plain preset); default O(image).
        type: str
      resources:
        description: Container resources of this instance (plain preset); default O(resources).
        type: dict
      honor_labels:
        description: C(honorLabels) of this instance's ServiceMonitor (plain preset); default O(honor_labels).
        type: bool
      persistence:
        description: Persistence of this instance (plain preset); keys left out come from O(persistence).
        type: dict
        suboptions:
          enabled:
            description: Keep pushed groups in a file on a PersistentVolumeClaim.
            type: bool
          size:
            description: Size of the claim.
            type: str
          storage_class:
            description: StorageClass of the claim; cluster default when unset.
            type: str
          interval:
            description: How often the Pushgateway writes the file.
            type: str
  namespace:
    description:
      - Namespace of the objects of the plain and verrazzano presets (must exist); empty means
        the preset's, C(monitoring) or C(verrazzano-monitoring).
      - Deckhouse always uses C(kube-prometheus-pushgateway).
    type: str
    default: ""
  image:
    description: Pushgateway image (plain preset).
    type: str
    default: quay.io/prometheus/pushgateway:v1.11.1
  image_pull_policy:
    description: Image pull policy (plain preset).
    type: str
    default: IfNotPresent
    choices: [Always, IfNotPresent, Never]
  resources:
    description: Container resources (plain preset).
    type: dict
    default: {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
  honor_labels:
    description:
      - C(honorLabels) of the ServiceMonitors (plain preset). C(true) keeps the pushed
        C(job) and C(instance) labels; C(false) renames them to C(exported_job) and
        C(exported_instance) and sets C(job) to the scrape job.
    type: bool
    default: true
  persistence:
    description: Persistence defaults for every instance (plain preset).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Keep pushed groups in a file on a PersistentVolumeClaim; without it a restart loses them.
        type: bool
        default: false
      size:
        description: Size of the claim.
        type: str
        default: 1Gi
      storage_class:
        description: StorageClass of the claim; cluster default when unset.
        type: str
      interval:
        description: How often the Pushgateway writes the file.
        type: str
        default: 5m
  service_monitor_labels:
    description: Extra labels on the ServiceMonitors, e.g. C(release) for kube-prometheus-stack's selector.
    type: dict
    default: {}
  scrape_interval:
    description: Scrape interval of the ServiceMonitors; Prometheus's default when unset.
    type: str
  basic_auth_users:
    description:
      - Users allowed to push and scrape (plain preset), as bcrypt hashes; turns on basic auth.
      - Needs O(scrape_basic_auth_secret) so that Prometheus can still scrape.
    type: list
    elements: dict
    default: []
    suboptions:
      username:
        description: User name.
        type: str
        required: true
      password_hash:
        description: bcrypt hash of the password (C($2y$...)).
        type: str
        required: true
  scrape_basic_auth_secret:
    description: Existing Secret (keys C(username), C(password)) in O(namespace) that the ServiceMonitors scrape with.
    type: str
  tls_secret:
    description:
      - Existing Secret in O(namespace) with C(tls.crt), C(tls.key) and C(ca.crt) (as cert-manager
        writes it); turns on HTTPS. The ServiceMonitors verify with its C(ca.crt).
    type: str
  node_selector:
    description: Pod C(nodeSelector) (both presets).
    type: dict
    default: {}
  tolerations:
    description: Pod tolerations (both presets).
    type: list
    elements: dict
    default: []
  deckhouse_settings_version:
    description: C(spec.version) of the ModuleConfig (the settings schema version).
    type: int
    default: 1
extends_documentation_fragment:
  - k8s_monitoring.prometheus.builder
"""

EXAMPLES = r"""
- name: Build the Deckhouse ModuleConfig with two instances
  k8s_monitoring.prometheus.pushgateway_build:
    preset: deckhouse
    instances:
      - name: first
      - name: second
  register: pushgateway_build

- name: Build a persistent Pushgateway for kube-prometheus-stack
  k8s_monitoring.prometheus.pushgateway_build:
    namespace: monitoring
    instances:
      - name: batch
        persistence:
          enabled: true
    service_monitor_labels:
      release: kube-prometheus-stack
"""

RETURN = r"""
manifests:
  description: Kubernetes objects in apply order, with the ownership labels.
  returned: always
  type: list
  elements: dict
required_apis:
  description: APIs the cluster must serve, each C({api_version, kind}).
  returned: always
  type: list
  elements: dict
prune_kinds:
  description: Every kind the role may create (both presets, so switching preset cleans up).
  returned: always
  type: list
  elements: dict
urls:
  description: In-cluster URL of every instance, by name.
  returned: always
  type: dict
  sample: {"first": "http://first.kube-prometheus-pushgateway:9091"}
namespace:
  description: The namespace the instances run in (the preset's when O(namespace) is empty).
  returned: always
  type: str
  sample: monitoring
workloads:
  description: The pods the instances run (for roles that must agree, such as network_policies); empty with O(state=absent).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "first", "namespace": "monitoring", "port": 9091,
            "pod_labels": {"app.kubernetes.io/name": "pushgateway", "app.kubernetes.io/instance": "first"}}]
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
