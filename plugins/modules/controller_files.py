#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: controller_files
short_description: Write or remove small files on the controller in one step
version_added: 0.1.0
description:
  - Writes each file of O(files) whose content or mode differs (atomically, creating
    missing directories) and removes those with C(state=absent).
  - Runs in the controller process as an action plugin, so a role that writes a few
    documents per cluster does not pay a module start-up per file and cluster.
  - Used by the roles for the outside side (Grafana data source, federation job).
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  files:
    description: The files.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Path on the controller.
        type: path
        required: true
      content:
        description: Full content of the file.
        type: str
        default: ""
      mode:
        description: Octal mode, as a string.
        type: str
        default: "0644"
      state:
        description: C(absent) removes the file.
        type: str
        default: present
        choices: [present, absent]
attributes:
  check_mode:
    support: full
    description: Reports the files that would be written or removed.
  diff_mode:
    support: full
    description: Shows the content before and after.
"""

EXAMPLES = r"""
- name: Write the federation job
  k8s_monitoring.prometheus.controller_files:
    files:
      - path: /srv/federation/prod.yaml
        content: "{{ {'scrape_configs': [job]} | to_nice_yaml }}"
"""

RETURN = r"""
written:
  description: Files written (in check mode, that would be written).
  returned: always
  type: list
  elements: str
removed:
  description: Files removed (in check mode, that would be removed).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.controller_files import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
