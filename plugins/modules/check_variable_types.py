#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: check_variable_types
short_description: Refuse role variables whose shape ansible-core would silently convert
version_added: 0.2.0
description:
  - Reads a role's C(meta/argument_specs.yml) and checks every variable of its C(main) entry
    point that is set, before anything uses it. ansible-core's own role argument validation
    turns a mapping given for a string or path into its text (which a role could then
    write as a file of that name); here it fails, naming the variable.
  - Runs in the controller process as an action plugin; it needs the play's variables.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  spec_file:
    description: The role's C(meta/argument_specs.yml).
    type: path
    required: true
attributes:
  check_mode:
    support: full
    description: Checks only; nothing changes in any mode.
  diff_mode:
    support: none
    description: Nothing to show.
"""

EXAMPLES = r"""
- name: Check the shapes of this role's variables
  k8s_monitoring.prometheus.check_variable_types:
    spec_file: "{{ role_path }}/meta/argument_specs.yml"
"""

RETURN = r"""
checked:
  description: The variables that were set and checked.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(spec_file=dict(type="path", required=True))


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="check_variable_types runs as an action plugin on the controller; it needs the play's variables")


if __name__ == "__main__":
    main()
