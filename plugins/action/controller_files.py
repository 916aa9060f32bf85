# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files belong to the controller: write them in the controller process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import controller_files
from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import (
    BuilderAction,
)


class ActionModule(BuilderAction):
    ARGUMENT_SPEC = controller_files.ARGUMENT_SPEC
    BUILD = staticmethod(controller_files.build)
