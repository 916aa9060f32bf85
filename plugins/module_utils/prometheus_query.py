# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instant PromQL queries against the Prometheus HTTP API, optionally waiting for a result.

prometheus_client has no query client (it is an instrumentation library), so the
request goes through the same ``open_url``-based helper as the Pushgateway module:
same auth, TLS and retry behaviour.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
import time

from ansible.module_utils.six.moves.urllib.parse import urlencode

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_http import (
    CONNECTION_ARGUMENT_SPEC,
    HTTPRequestError,
    check_connection_params,
    request,
)

ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True),
    query=dict(type="str", required=True),
    time=dict(type="str"),
    wait=dict(type="bool", default=False),
    wait_for=dict(type="str", default="result", choices=["result", "empty"]),
    expected_value=dict(type="raw"),
    wait_timeout=dict(type="float", default=60.0),
    wait_interval=dict(type="float", default=1.0),
    **CONNECTION_ARGUMENT_SPEC
)


# PromQL string literals ("...", '...' with Go escapes; `...` raw) and comments, in query order.
PROMQL_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`|#[^\n]*')
# Inside a quoted literal: a UTF-16 surrogate pair escape, or any other escape (skipped whole).
SURROGATE_PAIR = re.compile(r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\.")


class QueryError(Exception):
    """The query failed or the wait timed out; ``str()`` is the message."""

    def __init__(self, message, **details):
        super(QueryError, self).__init__(message)
        self.details = details


def same_value(actual, expected):
    """Prometheus returns values as strings; compare them as numbers (NaN equals NaN here)."""
    try:
        a, e = float(actual), float(expected)
    except (TypeError, ValueError):
        return str(actual) == str(expected)
    if math.isnan(a) and math.isnan(e):
        return True
    return a == e


def sample_values(result_type, result):
    """The sample values of a query result as strings, whatever its type."""
    if result_type in ("scalar", "string"):
        return [result[1]] if result else []
    values = []
    for series in result or []:
        if "value" in series:
            values.append(series["value"][1])
        values.extend(v[1] for v in series.get("values") or [])
    return values


def satisfied(params, result_type, result):
    """Does this answer end the wait?"""
    values = sample_values(result_type, result)
    if params.get("wait_for") == "empty":
        return not values
    if params.get("expected_value") is not None:
        return any(same_value(v, params["expected_value"]) for v in values)
    return bool(values)


def _code_point(match):
    if match.group(1) is None:
        return match.group(0)
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return "\\U{0:08X}".format(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _literal(match):
    token = match.group(0)
    return SURROGATE_PAIR.sub(_code_point, token) if token[0] in "\"'" else token


def promql_escapes(query):
    """``query`` with each UTF-16 surrogate pair escape in a quoted string made one ``\\U`` escape.

    JSON (Ansible's ``to_json``, the usual way to put a label value into a query) writes a
    character outside the Basic Multilingual Plane, such as an emoji, as a pair
    (``\\ud83d\\ude00``); PromQL escapes are Go's, where each half is an invalid code point
    and the query a parse error. The pair stands for one character, ``\\U0001F600`` in Go.
    Raw strings and comments are left alone.
    """
    return PROMQL_TOKEN.sub(_literal, query)


def _is_rejection(err):
    status = err.details.get("status")
    return status is not None and 400 <= status < 500


def query_once(params, http=request, deadline=None):
    """One instant query (none of its requests past ``deadline``); returns (result_type, result, attempts)."""
    url = "{0}/api/v1/query".format(params["url"].rstrip("/"))
    form = {"query": promql_escapes(params["query"])}
    if params.get("time"):
        form["time"] = params["time"]
    try:
        response = http(params, "POST", url, data=urlencode(form).encode("ascii"),
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, deadline=deadline)
    except HTTPRequestError as err:
        message = err.body
        try:
            message = json.loads(err.body).get("error") or err.body
        except (ValueError, AttributeError):
            pass
        if err.status is not None and 400 <= err.status < 500:
            raise QueryError("Prometheus rejected the query {0!r} (HTTP {1}): {2}".format(
                params["query"], err.status, message or "no message"), status=err.status)
        raise QueryError(str(err), status=err.status, attempts=err.attempts)
    try:
        payload = json.loads(response.text())
    except ValueError as err:
        raise QueryError("{0} did not answer with the Prometheus API's JSON: {1}".format(url, err))
    if payload.get("status") != "success":
        raise QueryError("Prometheus answered {0}: {1}".format(payload.get("errorType"), payload.get("error")))
    data = payload.get("data") or {}
    return data.get("resultType"), data.get("result"), response.attempts


def run(params, http=request, sleep=time.sleep, clock=time.monotonic):
    """Run the query, waiting when asked; returns the module result, raises QueryError."""
    problem = check_connection_params(params)
    if problem:
        raise QueryError(problem)
    for name in ("wait_timeout", "wait_interval"):
        if params.get(name) is not None and params[name] < 0:
            raise QueryError("{0}: expected 0 or more, got {1}".format(name, params[name]))
    if params.get("expected_value") is not None and params.get("wait_for") == "empty":
        raise QueryError("expected_value cannot be combined with wait_for=empty")
    # wait_timeout bounds the whole wait: requests, retries and sleeps between polls.
    deadline = clock() + (params.get("wait_timeout") or 0) if params.get("wait") else None
    polls = 0
    result_type, result, last_error = None, None, None
    while True:
        polls += 1
        try:
            result_type, result, _attempts = query_once(params, http, deadline)
            last_error = None
        except QueryError as err:
            # While waiting, an unreachable, slow or failing Prometheus may come back
            # (a restart, a rollout): keep polling until the deadline. A rejected query
            # (4xx) will not get better and ends the wait at once.
            if not params.get("wait") or _is_rejection(err):
                raise
            last_error = err
        done = last_error is None and satisfied(params, result_type, result)
        if done or not params.get("wait") or clock() >= deadline:
            break
        sleep(min(params.get("wait_interval") or 0, max(0.0, deadline - clock())))
        if clock() >= deadline:
            break  # no query starts after the deadline
    outcome = dict(changed=False, result_type=result_type, result=result or [],
                   sample_values=sample_values(result_type, result), matched=done, polls=polls)
    if params.get("wait") and not done:
        want = ("an empty result" if params.get("wait_for") == "empty"
                else "the value {0}".format(params["expected_value"]) if params.get("expected_value") is not None
                else "a non-empty result")
        last = "last error: {0}".format(last_error) if last_error else "last result: {0}".format(json.dumps(result)[:1000])
        raise QueryError("Query {0!r} did not return {1} within {2} s ({3} polls); {4}".format(
            params["query"], want, params.get("wait_timeout"), polls, last), **outcome)
    return outcome
