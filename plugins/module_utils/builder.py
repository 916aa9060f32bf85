# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a builder function as an Ansible module.

Builders are pure functions ``build(params, check_mode) -> dict`` that raise
:class:`ValidationError` on bad input. The same function runs in two places:
as a normal module (this file) and inside the controller as an action plugin
(``plugins/plugin_utils/builder_action.py``), which saves a Python start-up per
host and task. Both report a validation failure the same way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import (
    ValidationError,
)


def run_builder_module(argument_spec, build, **module_kwargs):
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **module_kwargs)
    try:
        result = build(module.params, module.check_mode)
    except ValidationError as err:
        module.fail_json(msg=str(err), variable=err.variable)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
