# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the prometheus_external_access manifests inside the controller (no Python start-up per host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import prometheus_external_access
from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import (
    BuilderAction,
)


class ActionModule(BuilderAction):
    ARGUMENT_SPEC = prometheus_external_access.ARGUMENT_SPEC
    BUILD = staticmethod(prometheus_external_access.build)
