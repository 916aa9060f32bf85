# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class for action plugins that run a builder inside the controller.

Subclasses set ``ARGUMENT_SPEC`` (the module's own spec, imported from its
``module_utils``) and ``BUILD = staticmethod(builder_function)``. See
``plugins/module_utils/builder.py`` for the module-side twin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.plugins.action import ActionBase

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import (
    ValidationError,
)


def plain(value):
    """Strip Ansible's tagged wrapper types (ansible-core >= 2.19) down to plain Python.

    Builders and YAML dumpers expect ``dict``/``list``/``str``; the controller hands
    action plugins tagged subclasses that ``yaml.SafeDumper`` refuses to represent.
    """
    if isinstance(value, Mapping):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


class BuilderAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = None
    VALIDATE_KWARGS = {}

    def build(self, params, check_mode, task_vars):
        return self.BUILD(params, check_mode)

    def run(self, tmp=None, task_vars=None):
        result = super(BuilderAction, self).run(tmp, task_vars)
        validation, params = self.validate_argument_spec(
            argument_spec=self.ARGUMENT_SPEC, **self.VALIDATE_KWARGS
        )
        try:
            built = self.build(plain(params), self._task.check_mode, task_vars or {})
        except ValidationError as err:
            result.update(failed=True, msg=str(err), variable=err.variable)
            return result
        warnings = built.pop("warnings", [])
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        result.update(built)
        return result
