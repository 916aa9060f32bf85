#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: istio_metrics_build
short_description: Build the Istio AuthorizationPolicy and envoy-stats PodMonitor for Prometheus
version_added: 0.1.0
description:
  - Validates the inputs and returns the manifests of the C(istio_metrics) role; it never
    talks to a cluster. The role applies or renders them through the C(manifests) role.
  - An C(AuthorizationPolicy) (C(security.istio.io/v1), ALLOW) that selects the Prometheus pods,
    with one rule per client; each client C({namespace, service_account}) becomes
    C(source.namespaces) and C(source.principals) (C(<trust domain>/ns/<namespace>/sa/<service account>)).
    Without clients and without a preset that provides them the module fails; it never emits a placeholder.
  - The C(envoy-stats) C(PodMonitor) that scrapes C(/stats/prometheus) on port 15090 of every sidecar,
    and optionally a C(ServiceMonitor) for istiod.
  - Given the C(Prometheus) resources read from the cluster in O(prometheus_resources), warns when none of
    them would select the PodMonitor or ServiceMonitor.
  - Runs on the controller as an action plugin.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  state:
    description: C(absent) returns no manifests, so that the role removes what it made earlier; nothing is validated.
    type: str
    default: present
    choices: [present, absent]
  preset:
    description:
      - C(verrazzano) (OCNE / Verrazzano) fills in O(namespace) C(verrazzano-monitoring) and the client
        C(verrazzano-system)/C(verrazzano-authproxy) where those options are not set.
    type: str
    default: none
    choices: [none, verrazzano]
  namespace:
    description: Namespace of Prometheus, where every object goes. Unset means the preset's, else C(monitoring).
    type: str
  authorization_policy_enabled:
    description: Make the AuthorizationPolicy.
    type: bool
    default: true
  authorization_policy_name:
    description: Name of the AuthorizationPolicy.
    type: str
    default: prometheus-allow-clients
  prometheus_selector:
    description: Labels of the Prometheus pods the policy applies to (must not be empty).
    type: dict
    default:
      app.kubernetes.io/name: prometheus
  clients:
    description:
      - Workloads allowed to reach Prometheus, each a mapping with C(namespace) and C(service_account).
      - Unset means the preset's clients. Required when no preset provides them.
    type: list
    elements: dict
  trust_domain:
    description: Istio trust domain used in the principals.
    type: str
    default: cluster.local
  ports:
    description: Prometheus ports the clients may reach; written as strings into the policy.
    type: list
    elements: int
    default: [9090]
  pod_monitor_enabled:
    description: Make the envoy-stats PodMonitor.
    type: bool
    default: true
  pod_monitor_name:
    description: Name of the PodMonitor.
    type: str
    default: envoy-stats
  pod_monitor_variant:
    description:
      - C(envoy) scrapes the C(*-envoy-prom) port (15090) of every pod (the OCNE text).
      - C(istio_merged) scrapes the istio-proxy port named by the C(prometheus.io/port) annotation,
        where Istio serves the application's and Envoy's metrics merged (Istio's own sample).
    type: str
    default: envoy
    choices: [envoy, istio_merged]
  release_label:
    description: Value of the C(release) label of the monitors, which Prometheus selects by; empty means no such label.
    type: str
    default: prometheus-operator
  monitor_labels:
    description: More labels for the PodMonitor and ServiceMonitor.
    type: dict
    default: {}
  scrape_interval:
    description: Scrape interval of the monitors, such as C(30s); unset means the Prometheus default.
    type: str
  scrape_namespaces:
    description: Namespaces whose pods the PodMonitor scrapes; empty means every namespace.
    type: list
    elements: str
    default: []
  istiod_service_monitor_enabled:
    description: Make a ServiceMonitor for istiod (port C(http-monitoring)).
    type: bool
    default: false
  istiod_service_monitor_name:
    description: Name of the istiod ServiceMonitor.
    type: str
    default: istiod
  istiod_namespace:
    description: Namespace where istiod runs.
    type: str
    default: istio-system
  prometheus_resources:
    description: C(Prometheus) resources read from the cluster, for the selector warning; empty means no check.
    type: list
    elements: dict
    default: []
  namespace_labels:
    description: Labels of the O(namespace) Namespace, for C(podMonitorNamespaceSelector); unset means only C(kubernetes.io/metadata.name).
    type: dict
extends_documentation_fragment:
  - k8s_monitoring.prometheus.builder
"""

EXAMPLES = r"""
- name: Build the OCNE / Verrazzano objects
  k8s_monitoring.prometheus.istio_metrics_build:
    preset: verrazzano
  register: istio_metrics_build

- name: Build for kube-prometheus-stack with Grafana as the client
  k8s_monitoring.prometheus.istio_metrics_build:
    namespace: monitoring
    clients:
      - namespace: monitoring
        service_account: kube-prometheus-stack-grafana
    release_label: kube-prometheus-stack
    scrape_interval: 30s
"""

RETURN = r"""
manifests:
  description: The objects to apply, in order, with the collection's ownership labels.
  returned: always
  type: list
  elements: dict
required_apis:
  description: The APIs the cluster must serve, each C({api_version, kind, source}).
  returned: always
  type: list
  elements: dict
prune_kinds:
  description: Every kind this role may make, each C({api_version, kind}).
  returned: always
  type: list
  elements: dict
namespace:
  description: The namespace the objects go to, after the preset is applied.
  returned: always
  type: str
  sample: verrazzano-monitoring
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.istio_metrics import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
