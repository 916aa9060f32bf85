# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts of the platforms the presets describe, used by more than one role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Verrazzano installs kube-prometheus-stack as Helm release "prometheus-operator";
# its Prometheus selects ServiceMonitors and PodMonitors by this label.
VERRAZZANO_MONITOR_SELECTOR = {"release": "prometheus-operator"}

# Deckhouse's Prometheus reads monitors labelled prometheus=main, in namespaces labelled
# prometheus.deckhouse.io/monitor-watcher-enabled=true.
DECKHOUSE_MONITOR_SELECTOR = {"prometheus": "main"}

# Workloads this collection scrapes but does not run, per preset of the roles that scrape
# them (monitors_and_alerts) and let Prometheus reach them (network_policies).
# port: the container port name the monitor scrapes; a NetworkPolicy opens the number
# (FLUENT_BIT_PORT, INGRESS_NGINX_METRICS_PORT), which matches however the pod names it.
FLUENT_BIT_METRICS_PATH = "/api/v2/metrics/prometheus"  # /api/v1/metrics/prometheus before Fluent Bit 1.8
FLUENT_BIT_PORT = 2020
INGRESS_NGINX_METRICS_PATH = "/metrics"
INGRESS_NGINX_METRICS_PORT = 10254
FLUENT_BIT = {
    # fluent/fluent-bit Helm chart: container port "http" (2020) serves the metrics.
    "kube-prometheus-stack": {"namespace": "logging", "pod_labels": {"app.kubernetes.io/name": "fluent-bit"},
                              "port": "http"},
    # Verrazzano >= 1.6: the Fluent Operator runs the Fluent Bit DaemonSet in verrazzano-system.
    "verrazzano": {"namespace": "verrazzano-system", "pod_labels": {"app.kubernetes.io/name": "fluent-bit"},
                   "port": "metrics"},
    # No Fluent Bit unless the user runs one (DECKHOUSE_NO_FLUENT_BIT).
    "deckhouse": None,
}
INGRESS_NGINX = {
    "kube-prometheus-stack": {"namespace": "ingress-nginx",
                              "pod_labels": {"app.kubernetes.io/name": "ingress-nginx",
                                             "app.kubernetes.io/component": "controller"},
                              "port": "metrics"},
    "verrazzano": {"namespace": "verrazzano-ingress-nginx",
                   "pod_labels": {"app.kubernetes.io/name": "ingress-nginx",
                                  "app.kubernetes.io/component": "controller"},
                   "port": "metrics"},
    # DECKHOUSE_SCRAPES_INGRESS.
    "deckhouse": None,
}
# Why the deckhouse preset knows neither; both roles that meet them say so.
DECKHOUSE_NO_FLUENT_BIT = "Deckhouse ships logs with Vector (log-shipper), not Fluent Bit"
DECKHOUSE_SCRAPES_INGRESS = "Deckhouse scrapes its own ingress controllers (d8-ingress-nginx)"
