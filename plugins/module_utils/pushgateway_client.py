# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Push, merge and delete one Pushgateway group, predicting the change first.

The group is read from the Pushgateway's ``/api/v1/metrics`` before every write:
that is what makes check mode, ``changed`` and the "deleting a group that does not
exist" warning honest (the Pushgateway itself answers 202 to every DELETE).

Grouping-key URLs are built here, not with prometheus_client's private
``_escape_grouping_key``: a private helper may change without notice, and the rule
is short. Values that contain ``/``, are empty, or are ``.`` or ``..`` (which HTTP
path normalisation would remove: the Pushgateway answers with a redirect) use the
``@base64`` form (URL-safe alphabet, as the Pushgateway expects); everything else is
percent-encoded as UTF-8.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import functools
import gc
import json

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import (
    pushgateway_exposition as exposition,
    validation,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_http import (
    CONNECTION_ARGUMENT_SPEC,
    HTTPRequestError,
    Session,
    check_connection_params,
)

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True),
    job=dict(type="str", required=True),
    grouping=dict(type="dict", default={}),
    metrics=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        value=dict(type="raw", required=True),
        type=dict(type="str", default="gauge", choices=["gauge", "counter", "untyped"]),
        help=dict(type="str"),
        labels=dict(type="dict"),
    )),
    metrics_text=dict(type="str"),
    method=dict(type="str", default="put", choices=["put", "post"]),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    force=dict(type="bool", default=False),
    **CONNECTION_ARGUMENT_SPEC
)
MUTUALLY_EXCLUSIVE = [["metrics", "metrics_text"]]


class PushError(Exception):
    """The push or delete failed; ``str()`` is the message for the user."""

    def __init__(self, message, **details):
        super(PushError, self).__init__(message)
        self.details = details


def encode_segment(name, value):
    """``name/value`` or ``name@base64/<urlsafe base64>`` for one grouping label."""
    if value in ("", ".", "..") or "/" in value:
        encoded = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")
        return "{0}@base64/{1}".format(name, encoded or "=")
    return "{0}/{1}".format(name, quote(value.encode("utf-8"), safe=""))


def grouping_key(job, grouping, variable="grouping"):
    """The full grouping key ``{job: ..., label: value}``; raises PushError on bad names or values."""
    if not isinstance(job, str) or job == "":
        raise PushError("job: expected a non-empty string (the Pushgateway needs a job name)")
    key = {"job": job}
    for name in sorted(grouping or {}):
        value = grouping[name]
        if not validation.is_prometheus_label_name(name):
            raise PushError("{0}: {1!r} is not a valid Prometheus label name".format(variable, name))
        if name == "job":
            raise PushError("{0}.job: give the job with the job option, not as a grouping label".format(variable))
        if isinstance(value, (dict, list)) or value is None:
            raise PushError("{0}.{1}: expected a string value".format(variable, name))
        key[name] = value if isinstance(value, str) else str(value)
    return key


def group_url(base_url, key):
    """``<base>/metrics/job/<job>{/<label>/<value>}`` for the grouping key ``key``."""
    segments = [encode_segment("job", key["job"])]
    segments.extend(encode_segment(name, key[name]) for name in sorted(key) if name != "job")
    return "{0}/metrics/{1}".format(base_url.rstrip("/"), "/".join(segments))


def describe_key(key):
    return "{" + ", ".join('{0}="{1}"'.format(k, exposition.escape_label_value(key[k]))
                           for k in ["job"] + sorted(k for k in key if k != "job")) + "}"


def find_group(groups, key):
    """The group whose grouping key is exactly ``key`` in ``/api/v1/metrics`` data, or None."""
    for group in groups:
        if (group.get("labels") or {}) == key:
            return group
    return None


def read_group(params, key, http):
    """The group's current entry from the Pushgateway's JSON API (None when absent)."""
    url = "{0}/api/v1/metrics".format(params["url"].rstrip("/"))
    try:
        response = http(params, "GET", url, headers={"Accept": "application/json"})
    except HTTPRequestError as err:
        raise PushError("Could not read the current groups from the Pushgateway: {0}".format(err),
                        status=err.status, attempts=err.attempts)
    try:
        groups = json.loads(response.body).get("data") or []  # bytes: json finds the encoding, no decoded copy
    except (ValueError, AttributeError) as err:
        raise PushError("{0} did not answer with the Pushgateway's JSON API: {1}".format(url, err))
    return find_group(groups, key)


def wanted_metrics(params, key):
    """(a function giving the exposition text to push, its canonical form), checked before anything is sent.

    Structured metrics are written as text only when it is sent or shown (an unchanged
    push of 50 000 entries does neither), and never parsed back: they are checked here.
    """
    try:
        if params.get("metrics_text") is not None:
            variable = "metrics_text"
            text = exposition.normalise_text(params["metrics_text"])
            if not text.strip():
                raise PushError("metrics_text: empty; give at least one sample (use state=absent to delete the group)")
            families = exposition.parse(text, variable)
            text_of = functools.partial(str, text)
        else:
            variable = "metrics"
            if not params.get("metrics"):
                raise PushError("metrics or metrics_text is required with state=present")
            structured = exposition.families_from_structured(params["metrics"], variable)
            families = exposition.metric_families(structured)
            text_of = functools.partial(exposition.write_families, structured)
        wanted = exposition.canonical(families, key, variable)
    except exposition.ExpositionError as err:
        raise PushError(str(err))
    if not wanted:
        raise PushError("{0}: no samples to push".format(variable))
    return text_of, wanted


@contextlib.contextmanager
def _no_cycle_collection():
    """Pause CPython's cycle collector for one run.

    A large push builds hundreds of thousands of small tuples and dicts, none of
    them in a reference cycle; each collection the allocations trigger walks them all
    again, which took about a third of a 100 000-series run. Reference counting still
    frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run(params, check_mode, http=None, want_diff=False):
    """Do what the module does; returns the result dict. ``http`` stands in for a :class:`Session`.

    Raises PushError on failure, exposition.MissingLibrary when the metrics need
    prometheus_client's parser and it is not installed.
    """
    with _no_cycle_collection():
        return _run(params, check_mode, http or Session(), want_diff)


def _run(params, check_mode, http, want_diff):
    problem = check_connection_params(params)
    if problem:
        raise PushError(problem)
    key = grouping_key(params["job"], params.get("grouping"))
    url = group_url(params["url"], key)
    result = dict(changed=False, url=url, grouping_key=key, method=params["method"], state=params["state"])

    if params["state"] == "present":
        text_of, wanted = wanted_metrics(params, key)

    group = read_group(params, key, http)
    current = {}
    if group is not None:
        current = exposition.canonical_from_api(group, key)
    result["series_before"] = exposition.series_count(current)

    if params["state"] == "absent":
        result["series_after"] = 0
        if group is None:
            result["warnings"] = ["No group with grouping key {0} exists on {1}; nothing was deleted. The grouping "
                                  "key must name exactly the labels the group was pushed with (a DELETE that adds "
                                  "'instance' to a group pushed without it deletes nothing).".format(
                                      describe_key(key), params["url"])]
            return result
        result["changed"] = True
        if want_diff:
            result["diff"] = dict(before=exposition.group_text_from_api(group), after="")
        if not check_mode:
            _send(params, "DELETE", url, None, result, http)
        return result

    after = exposition.predict(current, wanted, params["method"])
    result["series_after"] = exposition.series_count(after)
    result["series_pushed"] = exposition.series_count(wanted)
    result["changed"] = bool(params.get("force")) or group is None or after != current
    if want_diff and result["changed"]:
        result["diff"] = dict(before=exposition.group_text_from_api(group) if group else "", after=text_of())
    if result["changed"] and not check_mode:
        _send(params, params["method"].upper(), url, text_of().encode("utf-8"), result, http)
    return result


def _send(params, method, url, data, result, http):
    headers = {"Content-Type": TEXT_CONTENT_TYPE} if data is not None else {}
    try:
        response = http(params, method, url, data=data, headers=headers)
    except HTTPRequestError as err:
        if err.status is not None and 400 <= err.status < 500:
            raise PushError("The Pushgateway refused the {0} of {1} (HTTP {2}, not retried): {3}".format(
                method, url, err.status, err.body or "no message"), status=err.status, attempts=err.attempts)
        raise PushError(str(err), status=err.status, attempts=err.attempts)
    result["status"] = response.status
    result["attempts"] = response.attempts
