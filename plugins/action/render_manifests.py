# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render on the controller: the files belong to the controller, not to a managed node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import render
from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import (
    BuilderAction,
)


class ActionModule(BuilderAction):
    ARGUMENT_SPEC = render.ARGUMENT_SPEC
    BUILD = staticmethod(render.build)
