#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: monitors_and_alerts_build
short_description: Build the Fluent Bit and ingress-controller PodMonitors and the alert rules of the collection
version_added: 0.3.0
description:
  - Validates the inputs and returns the manifests of the C(monitors_and_alerts) role; it never talks to a
    cluster. The role applies or renders them through the C(manifests) role.
  - A C(PodMonitor) for Fluent Bit's HTTP server (C(/api/v2/metrics/prometheus), port 2020) and one for the
    ingress-nginx controller (C(/metrics), port 10254), in O(namespace), selecting the pods of the namespace
    the preset (or O(fluent_bit) / O(ingress_controller)) names.
  - Alert rule groups for what the collection deploys, one object per group, as C(PrometheusRule)
    (C(monitoring.coreos.com/v1)) or, with the C(deckhouse) preset, cluster-scoped C(CustomPrometheusRules)
    (C(deckhouse.io/v1)). Every alert carries a C(severity) label and C(summary), C(description) and
    C(runbook) annotations.
  - The C(deckhouse) preset never renders an ingress-controller PodMonitor (Deckhouse scrapes its
    controllers itself; asking for one gives a warning) and knows no Fluent Bit (Deckhouse ships logs with
    Vector).
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
      - Where the platform runs things and how its Prometheus selects monitors and rules.
      - C(kube-prometheus-stack) puts the objects in C(monitoring); give the chart's C(release) label in
        O(monitor_labels). C(verrazzano) uses C(verrazzano-monitoring) and the label
        C(release=prometheus-operator). C(deckhouse) labels monitors C(prometheus=main) and writes rules as
        C(CustomPrometheusRules).
    type: str
    default: kube-prometheus-stack
    choices: [deckhouse, kube-prometheus-stack, verrazzano]
  namespace:
    description:
      - Namespace of the PodMonitors and PrometheusRules; unset means the preset's. The C(deckhouse) preset has
        none, so name a namespace labelled C(prometheus.deckhouse.io/monitor-watcher-enabled=true) when it renders a
        PodMonitor.
    type: str
  monitor_labels:
    description: Labels of the PodMonitors and PrometheusRules, which Prometheus selects them by; the preset's label is added.
    type: dict
    default: {}
  scrape_interval:
    description: Scrape interval of the PodMonitors, such as C(30s); unset means the Prometheus default.
    type: str
  fluent_bit:
    description: Where Fluent Bit runs; unset keys come from the preset.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Scrape Fluent Bit; unset means yes where the preset knows where it runs.
        type: bool
      namespace:
        description: Namespace of the Fluent Bit pods.
        type: str
      pod_labels:
        description: Labels that select the Fluent Bit pods.
        type: dict
      port:
        description: Name of the container port of Fluent Bit's HTTP server.
        type: str
      monitor_name:
        description: Name of the PodMonitor; unset means C(fluent-bit).
        type: str
      path:
        description: Metrics path; unset means C(/api/v2/metrics/prometheus) (give C(/api/v1/metrics/prometheus) before Fluent Bit 1.8).
        type: str
  ingress_controller:
    description: Where the ingress-nginx controller runs; unset keys come from the preset.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Scrape the controller; unset means yes where the preset knows where it runs (never on Deckhouse).
        type: bool
      namespace:
        description: Namespace of the controller pods.
        type: str
      pod_labels:
        description: Labels that select the controller pods.
        type: dict
      port:
        description: Name of the controller's metrics container port (the chart names it C(metrics)).
        type: str
      monitor_name:
        description: Name of the PodMonitor; unset means C(ingress-controller).
        type: str
  pushgateway_alerts:
    description:
      - Group C(k8s-monitoring.pushgateway) - C(PushgatewayGroupStale) when a group was not pushed for longer than
        its threshold (C(time() - push_time_seconds)), C(PushgatewayPushFailed) when the last push of a group failed
        (C(push_failure_time_seconds > push_time_seconds)).
      - The C(job) label is the pushed job, as with the pushgateway role's C(honor_labels=true).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Render the group.
        type: bool
        default: false
      stale_after:
        description: A group not pushed for this long is stale (Prometheus duration).
        type: str
        default: 1h
      stale_after_by_job:
        description: Thresholds of single jobs, job name to duration; they replace O(pushgateway_alerts.stale_after) for those jobs.
        type: dict
        default: {}
      failed_for:
        description: How long a failed last push lasts before the alert fires.
        type: str
        default: 5m
      severity:
        description: The C(severity) label of the alerts.
        type: str
        default: warning
        choices: [info, warning, critical]
  external_access_alerts:
    description:
      - Group C(k8s-monitoring.external-access), from the ingress controller's C(nginx_ingress_controller_requests)
        of the external-access Ingress host - C(PrometheusExternalAccessAuthFailures) (401 and 403, someone guessing
        basic-auth credentials) and C(PrometheusExternalAccessErrors) (5xx).
      - Not on the C(deckhouse) preset - Deckhouse's controllers export their own request metrics; asking for the
        group there gives a warning and no rules.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Render the group.
        type: bool
        default: false
      host:
        description: Host name of the external-access Ingress; required with the group.
        type: str
      auth_failures_per_second:
        description: Requests per second answered 401 or 403, over 5 minutes, above which the alert fires.
        type: float
        default: 1.0
      error_ratio:
        description: Share of requests answered 5xx, over 5 minutes, above which the alert fires (between 0 and 1).
        type: float
        default: 0.05
      for_duration:
        description: How long a threshold must be crossed before an alert fires (the rule's C(for)).
        type: str
        default: 10m
      severity:
        description: The C(severity) label of the alerts.
        type: str
        default: warning
        choices: [info, warning, critical]
  fluent_bit_alerts:
    description:
      - Group C(k8s-monitoring.fluent-bit) - C(FluentBitOutputErrors) (an output returns errors),
        C(FluentBitOutputRetriesFailed) (retries ran out, records were dropped), C(FluentBitDown) (C(up == 0)) and
        C(FluentBitNotScraped) (no target at all).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Render the group; unset means when Fluent Bit is scraped by this role.
        type: bool
      job:
        description: The C(job) label of Fluent Bit's scrape; unset means this role's PodMonitor (C(<namespace>/<monitor name>)).
        type: str
      errors_per_second:
        description: Output errors per second, over 5 minutes, above which C(FluentBitOutputErrors) fires.
        type: float
        default: 0.0
      for_duration:
        description: How long output errors must last before C(FluentBitOutputErrors) fires.
        type: str
        default: 15m
      severity:
        description: The C(severity) label of the alerts.
        type: str
        default: warning
        choices: [info, warning, critical]
extends_documentation_fragment:
  - k8s_monitoring.prometheus.builder
"""

EXAMPLES = r"""
- name: Scrape Fluent Bit and ingress-nginx, alert on Pushgateway groups (kube-prometheus-stack)
  k8s_monitoring.prometheus.monitors_and_alerts_build:
    monitor_labels:
      release: kube-prometheus-stack
    pushgateway_alerts:
      enabled: true
      stale_after_by_job:
        nightly-report: 26h
  register: monitors_and_alerts_build

- name: Deckhouse - alert rules only, as CustomPrometheusRules
  k8s_monitoring.prometheus.monitors_and_alerts_build:
    preset: deckhouse
    pushgateway_alerts:
      enabled: true
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
  description: Every kind this role may make with the preset, each C({api_version, kind}).
  returned: always
  type: list
  elements: dict
namespace:
  description: The namespace of the PodMonitors and PrometheusRules, after the preset is applied (empty on Deckhouse without one).
  returned: always
  type: str
  sample: monitoring
instance:
  description: The default ownership instance of this use of the role, the namespace (C(cluster) without one).
  returned: always
  type: str
  sample: monitoring
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.monitors_and_alerts import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
