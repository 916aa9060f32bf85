#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: network_policies_build
short_description: Build least-privilege NetworkPolicies for the monitoring stack
version_added: 0.1.0
description:
  - Validates the inputs and returns the NetworkPolicies of the C(network_policies) role; it never
    talks to a cluster. The role applies or renders them through the C(manifests) role.
  - One NetworkPolicy per component, each switchable in O(components). C(node_exporter),
    C(kube_state_metrics), C(pushgateway), C(alertmanager) let Prometheus scrape (or alert);
    C(operator) lets Prometheus and O(api_server_cidrs) reach the operator's webhook / metrics port;
    C(prometheus_self) lets Prometheus scrape itself and its replicas; C(grafana_datasource) lets Grafana
    query Prometheus; C(prometheus_ui), C(grafana_ui), C(alertmanager_ui) let O(ui_sources) reach the
    web UIs; C(alertmanager_cluster) opens the gossip port (TCP and UDP) between Alertmanager replicas;
    C(pushers) lets O(pushers) push to the Pushgateway; C(default_deny) closes every other ingress in
    O(namespace).
  - Two opt-in components (off in every preset) protect workloads this collection scrapes but does not run.
    C(fluent_bit) lets Prometheus reach Fluent Bit's HTTP server (2020) and nothing else in.
    C(ingress_controller_metrics) lets Prometheus reach the ingress-nginx controller's metrics port (10254) and,
    because the policy isolates the controller, everyone its serving ports (80, 443) and O(api_server_cidrs) its
    admission webhook port (8443). Where they run comes from the preset; C(deckhouse) has neither, so both are
    refused there unless O(workloads) describes them.
  - A O(preset) knows each distribution's pod labels, namespaces and B(container) ports;
    NetworkPolicies match pod ports after Service translation, so a Service port lets nothing in.
    O(workloads) overrides any of them.
  - An empty source list is an error, never an allow-all; so is a C(/0) network.
  - Given the pods read from the cluster (O(live_pods)), warns about policies that select no pod, ports
    the selected pods do not declare as C(containerPort), and host-network pods (which NetworkPolicies
    do not cover). Given the DaemonSets (O(live_daemonsets)), warns when no CNI known to enforce
    NetworkPolicies runs.
  - Runs on the controller as an action plugin.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  state:
    description: C(absent) returns no manifests, so that the role removes what it made earlier.
    type: str
    default: present
    choices: [present, absent]
  preset:
    description:
      - Pod labels, namespaces, ports and UI sources of a distribution.
      - C(kube-prometheus-stack) - namespace C(monitoring), UI clients are the ingress-nginx controller pods.
      - C(verrazzano) (OCNE) - namespace C(verrazzano-monitoring), Grafana in C(verrazzano-system),
        UI clients are the Verrazzano auth proxy pods.
      - C(deckhouse) - namespace C(d8-monitoring), kube-rbac-proxy ports, operator in C(d8-operator-prometheus),
        UI clients are the C(d8-ingress-nginx) controller pods.
    type: str
    default: kube-prometheus-stack
    choices: [deckhouse, kube-prometheus-stack, verrazzano]
  namespace:
    description: Namespace of Prometheus, default namespace of every workload and of the default deny; empty means the preset's.
    type: str
    default: ""
  name_prefix:
    description: Put in front of every policy name.
    type: str
    default: k8s-monitoring-
  components:
    description:
      - Switch components on or off, a mapping of component name to C(true)/C(false); components not
        named keep the preset's setting.
      - Components are C(node_exporter), C(kube_state_metrics), C(pushgateway), C(pushers), C(alertmanager),
        C(operator), C(prometheus_self), C(grafana_datasource), C(prometheus_ui), C(grafana_ui),
        C(alertmanager_ui), C(alertmanager_cluster), C(fluent_bit), C(ingress_controller_metrics), C(default_deny).
    type: dict
    default: {}
  workloads:
    description:
      - Override the preset per workload, a mapping of workload name to C({namespace, pod_labels, ports}).
      - Workloads and their ports are C(prometheus) (C(web), C(reloader)), C(alertmanager) (C(web), C(cluster)),
        C(grafana) (C(web)), C(node_exporter) (C(metrics)), C(kube_state_metrics) (C(metrics), C(telemetry)),
        C(pushgateway) (C(web)), C(operator) (C(https)), C(fluent_bit) (C(metrics)), C(ingress_controller)
        (C(metrics), C(http), C(https), C(webhook)). A port is a number or a container port name; C(null) leaves
        it out.
      - A workload the preset does not have (Fluent Bit and the ingress controller on C(deckhouse)) needs
        C(namespace) and C(pod_labels).
      - Empty C(pod_labels) select every pod of the workload's namespace.
    type: dict
    default: {}
  ui_sources:
    description:
      - Who may reach the web UIs; empty means the preset's. Each source is a mapping with C(namespace) or
        C(namespace_labels) and/or C(pod_labels), or C(cidr) with optional C(except).
      - C(pod_labels) alone means pods in the namespace of the protected pods.
    type: list
    elements: dict
    default: []
  pushers:
    description: Who may push to the Pushgateway (component C(pushers)), sources as in O(ui_sources). Required when C(pushers) is on.
    type: list
    elements: dict
    default: []
  api_server_cidrs:
    description:
      - Addresses the API server calls admission webhooks from (the control-plane nodes).
      - C(operator) admits them on the operator's port (a warning when empty); C(ingress_controller_metrics)
        on the controller's webhook port, and fails when they are empty while that port is set.
    type: list
    elements: str
    default: []
  kube_state_metrics_telemetry:
    description: Also open kube-state-metrics' telemetry port (its own metrics).
    type: bool
    default: false
  collection_pushgateway:
    description:
      - The Pushgateways the C(pushgateway) role runs in the same cluster; the role passes that role's
        C(pushgateway_enabled), C(pushgateway_state), C(pushgateway_preset), C(pushgateway_namespace) and
        C(pushgateway_instances) here.
      - When they run, the C(pushgateway) and C(pushers) policies select exactly their pods (labels, namespace
        and port from the pushgateway builder; what O(workloads) sets for C(pushgateway) still wins), and the
        build fails when a default deny would close them to Prometheus or when no pusher may reach them.
    type: dict
  live_pods:
    description: Pods read from the cluster, as C(kubernetes.core.k8s_info) returns them; unset means no pod checks.
    type: list
    elements: dict
  live_daemonsets:
    description: DaemonSets (or just their C(metadata)) read from the cluster; unset means no CNI check.
    type: list
    elements: dict
extends_documentation_fragment:
  - k8s_monitoring.prometheus.builder
"""

EXAMPLES = r"""
- name: Build the kube-prometheus-stack policies with a default deny
  k8s_monitoring.prometheus.network_policies_build:
    preset: kube-prometheus-stack
    components:
      default_deny: true
    api_server_cidrs: [10.0.0.0/24]
  register: network_policies_build

- name: Let Prometheus scrape Fluent Bit and the ingress-nginx controller (kube-prometheus-stack)
  k8s_monitoring.prometheus.network_policies_build:
    components:
      fluent_bit: true
      ingress_controller_metrics: true
    api_server_cidrs: [10.0.0.0/24]   # the controller's admission webhook stays reachable
  register: network_policies_build

- name: Deckhouse, with batch jobs pushing to the Pushgateway
  k8s_monitoring.prometheus.network_policies_build:
    preset: deckhouse
    components:
      pushgateway: true
      pushers: true
    pushers:
      - namespace: batch
        pod_labels:
          app: nightly-report
"""

RETURN = r"""
manifests:
  description: The NetworkPolicies, with the collection's ownership labels.
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
  description: The monitoring namespace, after the preset is applied.
  returned: always
  type: str
  sample: monitoring
pod_namespaces:
  description: The namespaces the policies go to (where the live checks read pods).
  returned: always
  type: list
  elements: str
  sample: [d8-monitoring, d8-operator-prometheus]
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.network_policies import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
