# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write (or remove) a few small files on the controller in one step.

What ``ansible.builtin.file`` + ``copy`` do, for files that belong to the
controller (documents for the outside side, such as a Grafana provisioning file),
without a module process per file and host: a fleet of 50 clusters would
otherwise pay three Python start-ups per cluster for three small files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.render import (
    _read,
    _write_atomic,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import (
    ValidationError,
)

ARGUMENT_SPEC = dict(
    files=dict(
        type="list", elements="dict", required=True,
        options=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", default=""),
            mode=dict(type="str", default="0644"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
    ),
)


def _mode(index, value):
    try:
        mode = int(value, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise ValidationError("files[{0}].mode".format(index), "expected an octal file mode such as 0644", value)
    return mode


def build(params, check_mode):
    written, removed, diff = [], [], []
    plan = []
    for index, item in enumerate(params["files"]):
        path = os.path.abspath(item["path"])
        if item["state"] == "absent":
            if os.path.exists(path):
                removed.append(path)
                diff.append({"before_header": path, "after_header": path, "before": _read(path) or "", "after": ""})
            continue
        mode = _mode(index, item["mode"])
        current = _read(path)
        if current != item["content"] or (os.stat(path).st_mode & 0o777) != mode:
            written.append(path)
            plan.append((path, item["content"], mode))
            diff.append({"before_header": path, "after_header": path, "before": current or "",
                         "after": item["content"]})
    if not check_mode:
        for path, content, mode in plan:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_atomic(path, content, mode)
        for path in removed:
            os.unlink(path)
    return {"changed": bool(written or removed), "written": written, "removed": removed, "diff": diff}
