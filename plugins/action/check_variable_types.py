# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the shapes of a role's variables against its argument specs, before ansible-core converts them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible.plugins.action import ActionBase

from ansible_collections.k8s_monitoring.prometheus.plugins.modules.check_variable_types import ARGUMENT_SPEC
from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import wrong_type


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        unused, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            with open(args["spec_file"], "r", encoding="utf-8") as handle:
                options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        except (IOError, OSError, yaml.YAMLError, KeyError, TypeError) as err:
            result.update(failed=True, msg="spec_file: {0} is not a role's argument_specs.yml with a main entry "
                                           "point ({1})".format(args["spec_file"], err))
            return result
        checked = []
        for name, spec in sorted(options.items()):
            if name not in task_vars:
                continue
            value = self._templar.template(task_vars[name])
            problem = wrong_type(value, spec, name) if value is not None else None
            if problem:
                result.update(failed=True, msg=problem)
                return result
            checked.append(name)
        result.update(changed=False, checked=checked)
        return result
