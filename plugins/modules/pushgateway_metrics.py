#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pushgateway_metrics
short_description: Push, merge or delete one metric group on a Prometheus Pushgateway
version_added: 0.1.0
description:
  - Pushes metrics to the group named by O(job) and O(grouping) on a Pushgateway,
    replacing the group (O(method=put)) or only the metric families pushed
    (O(method=post)); O(state=absent) deletes the group.
  - Metrics are given as structured data (O(metrics)) or as exposition text
    (O(metrics_text)); both are checked before anything is sent. Text laid out as
    clients write it (C(# HELP), C(# TYPE), then that family's samples) is read by
    the module itself; anything else by prometheus_client's parser, whose message a
    rejection carries. Label values are escaped (backslash, double quote, newline)
    as the text format requires.
  - The same series (metric name and labels, the grouping labels included) twice in
    one push is refused, naming the option and the series; the Pushgateway would
    refuse the push and keep an empty group that records the failed push.
  - Any grouping label value works, including values with C(/), empty values, C(.),
    C(..) and non-ASCII text; the C(@base64) URL form is used where needed.
  - The group's current content is read first (from the Pushgateway's
    C(/api/v1/metrics)), so check mode predicts the change and pushing the same
    values again reports no change and sends nothing, unless O(force=true).
  - Deleting a group that does not exist reports no change and warns with the
    grouping key that was tried; the Pushgateway itself answers 202 either way.
  - Connection errors, time-outs and 5xx answers are retried with exponential
    back-off (O(retries), O(retry_delay)); 4xx answers are never retried and the
    Pushgateway's own message is part of the failure.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
requirements:
  - prometheus_client, only for metrics_text that is not laid out as clients write it (the module names it when missing)
extends_documentation_fragment:
  - k8s_monitoring.prometheus.http_client
options:
  url:
    description:
      - Base URL of the Pushgateway, for example C(http://first.kube-prometheus-pushgateway:9091).
      - Credentials in the URL (C(http://user:password@host)) are refused; give them with O(url_username)
        and O(url_password).
    type: str
    required: true
  job:
    description: Value of the C(job) grouping label.
    type: str
    required: true
  grouping:
    description:
      - Further grouping labels, label name to value. Together with O(job) they name the group.
      - A delete must name exactly the labels the group was pushed with.
    type: dict
    default: {}
  metrics:
    description:
      - Metrics as data. Entries with the same name are samples of one metric family
        and must agree on type and help.
      - Mutually exclusive with O(metrics_text); one of them is required with O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description: Metric name.
        type: str
        required: true
      value:
        description: Sample value; a number or C(+Inf), C(-Inf), C(NaN).
        type: raw
        required: true
      type:
        description: Metric type. Use O(metrics_text) for histograms and summaries.
        type: str
        choices: [gauge, counter, untyped]
        default: gauge
      help:
        description: Help text.
        type: str
      labels:
        description: Labels of this sample, name to value.
        type: dict
  metrics_text:
    description:
      - Metrics in the Prometheus text exposition format. Line ends are normalised
        to LF. Samples must not carry timestamps (the Pushgateway rejects them).
    type: str
  method:
    description:
      - C(put) replaces the whole group; C(post) replaces only the metric families
        that are pushed and keeps the group's other families.
    type: str
    default: put
    choices: [put, post]
  state:
    description: C(present) pushes; C(absent) deletes the group.
    type: str
    default: present
    choices: [present, absent]
  force:
    description:
      - Push even when the group already holds exactly these values (refreshes the
        group's C(push_time_seconds)).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
notes:
  - Skipping an unchanged push means C(push_time_seconds) is not refreshed; set
    O(force=true) when something alerts on the age of the last push.
seealso:
  - module: k8s_monitoring.prometheus.prometheus_query
"""

EXAMPLES = r"""
- name: Report a finished backup
  k8s_monitoring.prometheus.pushgateway_metrics:
    url: http://first.kube-prometheus-pushgateway:9091
    job: backup
    grouping:
      instance: db-1
    metrics:
      - name: backup_last_success_timestamp_seconds
        value: "{{ ansible_date_time.epoch }}"
        help: Last time the backup finished successfully.
      - name: backup_size_bytes
        value: 123456789

- name: Push exposition text with a quoted label value
  k8s_monitoring.prometheus.pushgateway_metrics:
    url: https://pushgateway.example.com
    url_username: pusher
    url_password: "{{ vault_pushgateway_password }}"
    job: test
    metrics_text: |
      # TYPE test_metric gauge
      test_metric{env="dev"} 3.14

- name: Delete the group again (name exactly the labels it was pushed with)
  k8s_monitoring.prometheus.pushgateway_metrics:
    url: http://first.kube-prometheus-pushgateway:9091
    job: backup
    grouping:
      instance: db-1
    state: absent
"""

RETURN = r"""
url:
  description: URL of the group (credentials are never part of it).
  returned: always
  type: str
  sample: http://127.0.0.1:9091/metrics/job/backup/instance/db-1
grouping_key:
  description: The full grouping key, C(job) included.
  returned: always
  type: dict
  sample: {"job": "backup", "instance": "db-1"}
method:
  description: The push method used.
  returned: always
  type: str
  sample: put
state:
  description: The requested state.
  returned: always
  type: str
  sample: present
series_before:
  description: Series in the group before this task (Pushgateway's own push_time_seconds metrics not counted).
  returned: success
  type: int
  sample: 0
series_after:
  description: Series in the group after this task (predicted in check mode).
  returned: success
  type: int
  sample: 2
series_pushed:
  description: Series in the pushed metrics.
  returned: when state is present
  type: int
  sample: 2
status:
  description: HTTP status of the push or delete.
  returned: when something was sent
  type: int
  sample: 200
attempts:
  description: Attempts the push or delete took (more than 1 after retries).
  returned: when something was sent
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import (
    pushgateway_exposition as exposition,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_client import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    PushError,
    run,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_http import mask_url_credentials


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    mask_url_credentials(module)
    try:
        result = run(module.params, module.check_mode, want_diff=module._diff)
    except PushError as err:
        module.fail_json(msg=str(err), **err.details)
    except exposition.MissingLibrary as err:
        # Only text outside the usual layout needs prometheus_client's parser (imported then).
        module.fail_json(msg=missing_required_lib(err.library), exception=err.traceback)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
