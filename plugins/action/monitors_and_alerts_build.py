# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the monitors_and_alerts manifests inside the controller (no module start-up per host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import monitors_and_alerts
from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import (
    BuilderAction,
)


class ActionModule(BuilderAction):
    ARGUMENT_SPEC = monitors_and_alerts.ARGUMENT_SPEC
    BUILD = staticmethod(monitors_and_alerts.build)
