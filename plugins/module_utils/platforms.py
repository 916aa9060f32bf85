# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts of the platforms the presets describe, used by more than one role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Verrazzano installs kube-prometheus-stack as Helm release "prometheus-operator";
# its Prometheus selects ServiceMonitors and PodMonitors by this label.
VERRAZZANO_MONITOR_SELECTOR = {"release": "prometheus-operator"}
