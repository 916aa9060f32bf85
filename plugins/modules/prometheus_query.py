#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prometheus_query
short_description: Run an instant PromQL query, optionally waiting for a result
version_added: 0.1.0
description:
  - Sends an instant query to the Prometheus HTTP API (C(/api/v1/query)) and returns the result.
  - With O(wait=true), repeats the query until it returns a non-empty result, a
    sample equal to O(expected_value), or (O(wait_for=empty)) nothing at all, and
    fails when O(wait_timeout) passes first. This is how a playbook checks that a
    pushed metric reached Prometheus, or that a deleted one is gone.
  - Read-only; runs in check mode too and never reports a change.
  - Connection errors, time-outs and 5xx answers are retried with back-off; a
    rejected query (4xx) fails at once with Prometheus's own error text.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
extends_documentation_fragment:
  - k8s_monitoring.prometheus.http_client
options:
  url:
    description:
      - Base URL of Prometheus (the API is below C(/api/v1/)), for example C(https://prometheus.example.com).
      - Credentials in the URL (C(http://user:password@host)) are refused; give them with O(url_username)
        and O(url_password).
    type: str
    required: true
  query:
    description:
      - The PromQL expression.
      - In a quoted string, a UTF-16 surrogate pair escape such as C(\ud83d\ude00) (how C(to_json) writes
        an emoji or another character outside the Basic Multilingual Plane) is sent as the one character it
        stands for (C(\U0001F600)); PromQL would reject each half as an invalid code point.
    type: str
    required: true
  time:
    description: Evaluation time (RFC 3339 or Unix timestamp); default is now.
    type: str
  wait:
    description:
      - Repeat the query until the condition of O(wait_for) / O(expected_value) holds.
      - While waiting, connection errors, time-outs and 5xx answers do not end the wait
        (Prometheus may be restarting); the wait ends at O(wait_timeout) naming the last error.
        A rejected query (4xx) ends it at once.
    type: bool
    default: false
  wait_for:
    description: C(result) waits for at least one sample; C(empty) waits until the query returns nothing.
    type: str
    default: result
    choices: [result, empty]
  expected_value:
    description: With O(wait_for=result), wait until some sample has this value (compared as a number).
    type: raw
  wait_timeout:
    description:
      - Seconds to keep trying when O(wait=true), all told. Each request's O(timeout) is cut to the time
        left, and no query or retry starts after it.
    type: float
    default: 60.0
  wait_interval:
    description: Seconds between two queries when O(wait=true).
    type: float
    default: 1.0
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
seealso:
  - module: k8s_monitoring.prometheus.pushgateway_metrics
"""

EXAMPLES = r"""
- name: Wait until the pushed metric is visible in Prometheus
  k8s_monitoring.prometheus.prometheus_query:
    url: https://prometheus.example.com
    url_username: grafana
    url_password: "{{ vault_prometheus_password }}"
    query: 'backup_size_bytes{exported_job="backup"}'
    wait: true
    expected_value: 123456789
    wait_timeout: 120

- name: Wait until a deleted group has gone from Prometheus
  k8s_monitoring.prometheus.prometheus_query:
    url: http://127.0.0.1:9090
    query: 'push_time_seconds{exported_job="backup"}'
    wait: true
    wait_for: empty
"""

RETURN = r"""
result_type:
  description: C(vector), C(matrix), C(scalar) or C(string).
  returned: success
  type: str
  sample: vector
result:
  description: The C(data.result) of the API answer (for a vector, a list of C({metric, value})).
  returned: success
  type: raw
  sample: [{"metric": {"__name__": "up", "job": "pushgateway"}, "value": [1795345324.243, "1"]}]
sample_values:
  description: The sample values of the result, as strings.
  returned: success
  type: list
  elements: str
  sample: ["1"]
matched:
  description: Whether the last answer satisfied the wait condition.
  returned: success
  type: bool
polls:
  description: How many times the query ran.
  returned: success
  type: int
  sample: 3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.prometheus_query import (
    ARGUMENT_SPEC,
    QueryError,
    run,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_http import mask_url_credentials


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    mask_url_credentials(module)
    try:
        result = run(module.params)
    except QueryError as err:
        module.fail_json(msg=str(err), **err.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
