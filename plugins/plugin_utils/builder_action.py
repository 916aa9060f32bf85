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


def _kind(value):
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "{0!r}".format(value)


def wrong_type(value, spec, name):
    """A message when ``value`` has a shape ansible-core would silently convert (or crash on), else None.

    ansible-core turns a mapping given for a string into the text "{'x': 1}" and fails
    inside its own code, naming no option, on a list given for a mapping with
    sub-options; both are refused here with the option (or role variable) named.
    """
    kind = spec.get("type", "str")
    if kind in ("str", "path") and isinstance(value, (Mapping, list, tuple)):
        return "{0}: expected a string, got {1}".format(name, _kind(value))
    if kind == "dict" and value is not None and not isinstance(value, (Mapping, str)):
        return "{0}: expected a mapping, got {1}".format(name, _kind(value))
    if kind == "list" and isinstance(value, Mapping):
        return "{0}: expected a list, got a mapping".format(name)
    options = spec.get("options")
    if kind == "dict" and options and isinstance(value, Mapping):
        return wrong_types(value, options, name + ".")
    if kind == "list" and isinstance(value, (list, tuple)):
        for index, element in enumerate(value):
            where = "{0}[{1}]".format(name, index)
            if spec.get("elements") == "dict" and not isinstance(element, Mapping):
                return "{0}: expected a mapping, got {1}".format(where, _kind(element))
            if options and isinstance(element, Mapping):
                problem = wrong_types(element, options, where + ".")
                if problem:
                    return problem
            elif spec.get("elements") in ("str", "path") and isinstance(element, (Mapping, list, tuple)):
                return "{0}: expected a string, got {1}".format(where, _kind(element))
    return None


def wrong_types(args, argument_spec, prefix=""):
    for option, value in args.items():
        spec = argument_spec.get(option)
        if spec is not None and value is not None:
            problem = wrong_type(value, spec, prefix + option)
            if problem:
                return problem
    return None


class BuilderAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = None
    VALIDATE_KWARGS = {}

    def build(self, params, check_mode, task_vars):
        return self.BUILD(params, check_mode)

    def run(self, tmp=None, task_vars=None):
        result = super(BuilderAction, self).run(tmp, task_vars)
        # Roles check their variables first (check_variable_types); this names the module's options.
        problem = wrong_types(self._task.args, self.ARGUMENT_SPEC)
        if problem:
            result.update(failed=True, msg=problem)
            return result
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
