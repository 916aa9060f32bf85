# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition format for pushes: write, check and compare.

Checking uses prometheus_client's text parser: it rejects malformed lines with a
message that points at the problem, before anything is sent. Writing is done here
rather than with ``prometheus_client.generate_latest`` because that writer renames
counter families (``# TYPE x_total counter`` for a counter named ``x``), which
would change the family the Pushgateway stores; the escaping rules are three lines.

Comparison (idempotency) passes both sides -- the wanted text and the group the
Pushgateway holds, read from its JSON API -- through the same writer and parser,
so any normalisation the parser applies (counter names, ``le`` spelling) applies
equally to both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import validation

try:
    from prometheus_client.parser import text_string_to_metric_families
    HAS_PROMETHEUS_CLIENT = True
    PROMETHEUS_CLIENT_IMPORT_ERROR = None
except ImportError as err:  # reported by the module with missing_required_lib
    HAS_PROMETHEUS_CLIENT = False
    PROMETHEUS_CLIENT_IMPORT_ERROR = err

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
STRUCTURED_TYPES = ("gauge", "counter", "untyped")
# Metrics the Pushgateway adds to every group itself; never part of a comparison.
GATEWAY_METRICS = ("push_time_seconds", "push_failure_time_seconds")


class ExpositionError(ValueError):
    """The metrics are not valid exposition text; ``str()`` is the message."""


def escape_label_value(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value):
    """A sample value as the Go client writes it (``+Inf``, ``-Inf``, ``NaN``)."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_labels(labels):
    if not labels:
        return ""
    return "{" + ",".join(
        '{0}="{1}"'.format(k, escape_label_value(v)) for k, v in labels.items()
    ) + "}"


def write_families(families):
    """Exposition text of ``[{name, type, help, samples: [(name, labels, value)]}]``."""
    lines = []
    for family in families:
        if family.get("help"):
            lines.append("# HELP {0} {1}".format(family["name"], escape_help(family["help"])))
        lines.append("# TYPE {0} {1}".format(family["name"], family["type"]))
        for name, labels, value in family["samples"]:
            lines.append("{0}{1} {2}".format(name, format_labels(labels), format_value(value)))
    return "\n".join(lines) + "\n" if lines else ""


def _value(variable, raw):
    if isinstance(raw, bool):
        raise ExpositionError("{0}: expected a number, got a boolean".format(variable))
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ExpositionError("{0}: expected a number (or +Inf, -Inf, NaN), got {1!r}".format(variable, raw))


def families_from_structured(metrics, variable="metrics"):
    """Turn the module's structured ``metrics`` list into families, checking every field.

    Entries with the same name become samples of one family; they must agree on
    type and help.
    """
    families = {}
    order = []
    for index, metric in enumerate(metrics):
        where = "{0}[{1}]".format(variable, index)
        if not isinstance(metric, dict):
            raise ExpositionError("{0}: expected a mapping with name and value".format(where))
        unknown = set(metric) - set(("name", "value", "type", "help", "labels"))
        if unknown:
            raise ExpositionError("{0}: unknown keys {1}; expected name, value, type, help, labels".format(
                where, ", ".join(sorted(unknown))))
        name = metric.get("name")
        if not isinstance(name, str) or not METRIC_NAME.match(name):
            raise ExpositionError("{0}.name: expected a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*, got {1!r}".format(
                where, name))
        if name in GATEWAY_METRICS:
            raise ExpositionError("{0}.name: {1} is set by the Pushgateway itself".format(where, name))
        if "value" not in metric or metric["value"] is None:
            raise ExpositionError("{0}.value: required".format(where))
        value = _value("{0}.value".format(where), metric["value"])
        mtype = metric.get("type") or "gauge"
        if mtype not in STRUCTURED_TYPES:
            raise ExpositionError("{0}.type: expected one of {1} (use metrics_text for histograms and "
                                  "summaries), got {2!r}".format(where, ", ".join(STRUCTURED_TYPES), mtype))
        help_text = metric.get("help") or ""
        if not isinstance(help_text, str):
            raise ExpositionError("{0}.help: expected a string".format(where))
        labels = metric.get("labels") or {}
        if not isinstance(labels, dict):
            raise ExpositionError("{0}.labels: expected a mapping of label names to values".format(where))
        clean = {}
        for key in sorted(labels):
            if not validation.is_prometheus_label_name(key):
                raise ExpositionError("{0}.labels: {1!r} is not a valid label name".format(where, key))
            val = labels[key]
            if isinstance(val, (dict, list)) or val is None:
                raise ExpositionError("{0}.labels.{1}: expected a string value".format(where, key))
            clean[key] = val if isinstance(val, str) else str(val)
        family = families.get(name)
        if family is None:
            family = families[name] = {"name": name, "type": mtype, "help": help_text, "samples": []}
            order.append(name)
        elif family["type"] != mtype or family["help"] != help_text:
            raise ExpositionError("{0}: metric {1} appears with a different type or help than before".format(
                where, name))
        family["samples"].append((name, clean, value))
    return [families[n] for n in order]


def normalise_text(text):
    """LF line ends and a final newline: the Pushgateway's parser wants both."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def parse(text, variable="metrics_text"):
    """Parse exposition text; raise :class:`ExpositionError` with the parser's message."""
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as err:  # the parser raises ValueError, IndexError, KeyError...
        raise ExpositionError("{0}: not valid Prometheus text format: {1}".format(variable, err))
    for family in families:
        for sample in family.samples:
            if sample.timestamp is not None:
                raise ExpositionError("{0}: sample {1} has a timestamp; the Pushgateway rejects pushed "
                                      "timestamps".format(variable, sample.name))
            if sample.name in GATEWAY_METRICS:
                raise ExpositionError("{0}: {1} is set by the Pushgateway itself".format(variable, sample.name))
    return families


def check_grouping_consistency(families, grouping_key, variable="metrics"):
    """A sample label that repeats a grouping label must carry the same value."""
    for family in families:
        for sample in family.samples:
            for key, val in sample.labels.items():
                if key in grouping_key and grouping_key[key] != val:
                    raise ExpositionError(
                        "{0}: sample {1} has label {2}={3!r} but the grouping key says {2}={4!r}".format(
                            variable, sample.name, key, val, grouping_key[key]))


def _canonical_label_value(key, value):
    if key in ("le", "quantile"):
        try:
            return format_value(value)
        except ValueError:
            return value
    return value


def canonical(families, grouping_key):
    """{family name: (type, help, frozenset of samples)} for comparison.

    Drops the grouping labels (the Pushgateway adds them), empty label values
    (Prometheus treats them as absent; the Pushgateway adds ``instance=""``) and
    the Pushgateway's own push_time_seconds / push_failure_time_seconds.
    """
    result = {}
    for family in families:
        samples = set()
        for sample in family.samples:
            if sample.name in GATEWAY_METRICS:
                continue
            labels = tuple(sorted(
                (k, _canonical_label_value(k, v)) for k, v in sample.labels.items()
                if v != "" and k not in grouping_key))
            samples.add((sample.name, labels, format_value(sample.value)))
        if samples:
            result[family.name] = (family.type, family.documentation or "", frozenset(samples))
    return result


def _json_samples(name, mtype, metric):
    labels = dict(metric.get("labels") or {})
    if mtype == "histogram":
        samples = [(name + "_bucket", dict(labels, le=le), v) for le, v in (metric.get("buckets") or {}).items()]
        return samples + [(name + "_sum", labels, metric.get("sum")), (name + "_count", labels, metric.get("count"))]
    if mtype == "summary":
        samples = [(name, dict(labels, quantile=q), v) for q, v in (metric.get("quantiles") or {}).items()]
        return samples + [(name + "_sum", labels, metric.get("sum")), (name + "_count", labels, metric.get("count"))]
    return [(name, labels, metric.get("value"))]


def group_text_from_api(group):
    """Exposition text of one group as ``/api/v1/metrics`` of the Pushgateway returns it."""
    families = []
    for name in sorted(group):
        entry = group[name]
        if name in ("labels", "last_push_successful") or name in GATEWAY_METRICS or not isinstance(entry, dict):
            continue
        mtype = (entry.get("type") or "untyped").lower()
        samples = []
        for metric in entry.get("metrics") or []:
            samples.extend(_json_samples(name, mtype, metric))
        families.append({"name": name, "type": mtype, "help": entry.get("help") or "", "samples": samples})
    return write_families(families)


# prometheus_client's parser reports untyped families as "unknown".
PARSER_TYPES = {"gauge": "gauge", "counter": "counter", "untyped": "unknown", "histogram": "histogram",
                "summary": "summary"}


def canonical_from_api(group, grouping_key):
    """:func:`canonical` of a group read from ``/api/v1/metrics``, without a text round trip.

    Gives the same result as ``canonical(parse(group_text_from_api(group)))`` (a unit test
    holds the two together) at a fraction of the cost: prometheus_client's parser is the
    slow part of an unchanged push of many series. Counter names follow the parser:
    family without ``_total``, sample with it.
    """
    result = {}
    for name in group:
        entry = group[name]
        if name in ("labels", "last_push_successful") or name in GATEWAY_METRICS or not isinstance(entry, dict):
            continue
        mtype = (entry.get("type") or "untyped").lower()
        family = name
        if mtype == "counter":
            family = name[:-len("_total")] if name.endswith("_total") else name
        samples = set()
        for metric in entry.get("metrics") or []:
            for sample_name, labels, value in _json_samples(name, mtype, metric):
                if mtype == "counter":
                    sample_name = family + "_total"
                key = tuple(sorted((k, _canonical_label_value(k, v)) for k, v in labels.items()
                                   if v != "" and k not in grouping_key))
                samples.add((sample_name, key, format_value(value)))
        if samples:
            result[family] = (PARSER_TYPES.get(mtype, mtype), entry.get("help") or "", frozenset(samples))
    return result


def predict(current, wanted, method):
    """The group's canonical content after a push: PUT replaces it, POST replaces same-named families."""
    if method == "put":
        return dict(wanted)
    result = dict(current)
    result.update(wanted)
    return result


def series_count(canonical_group):
    return sum(len(family[2]) for family in canonical_group.values())
