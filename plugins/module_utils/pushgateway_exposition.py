# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition format for pushes: write, check and compare.

Checking: text in the plain layout every client writes (``# HELP``/``# TYPE``, then
``name{label="value",...} value`` lines of that family) is read by a strict reader
here; any other text goes to prometheus_client's parser, which also words every
syntax error. Why not prometheus_client alone: it reads character by character in
Python, 15-20 us a sample line -- 1.5-2 s of a 100 000-series push, most of the
module's time (cProfile); the reader here, regular expressions run by ``re``, is 4-5
times faster. It accepts only what prometheus_client accepts, gives the same families
(tests/unit/test_pushgateway_exposition.py holds the two together on generated
texts), and hands anything it does not fully understand to prometheus_client.

Writing is done here rather than with ``prometheus_client.generate_latest``
because that writer renames counter families (``# TYPE x_total counter`` for a
counter named ``x``), which would change the family the Pushgateway stores; the
escaping rules are three lines.

Comparison (idempotency) reduces both sides -- the wanted metrics and the group
the Pushgateway holds, read from its JSON API -- to the same canonical form, with
prometheus_client's naming (counter families without ``_total``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import math
import re
import traceback
from collections import namedtuple

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import validation

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
STRUCTURED_TYPES = ("gauge", "counter", "untyped")
STRUCTURED_KEYS = frozenset(("name", "value", "type", "help", "labels"))
# Metrics the Pushgateway adds to every group itself; never part of a comparison.
GATEWAY_METRICS = ("push_time_seconds", "push_failure_time_seconds")
# Label values whose spelling may differ for one value (le="1" and le="1.0").
NUMERIC_LABELS = ("le", "quantile")
INF = float("inf")

# The plain layout (see the module doc). Only the escapes both prometheus_client and the
# Pushgateway read the same way; label names without the reserved "__" prefix.
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_QUOTED = r'[^"\\\n]*(?:\\[\\"n][^"\\\n]*)*'  # written unrolled: several times faster in Python's re
_LABEL = r'(?!__)[a-zA-Z_][a-zA-Z0-9_]*="{0}"'.format(_QUOTED)
_VALUE = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN"
PLAIN_SAMPLE = re.compile(r"({0})(?:\{{((?:{1})(?:,{1})*)?\}})? ({2})".format(_NAME, _LABEL, _VALUE))
PLAIN_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="({0})"'.format(_QUOTED))
PLAIN_COMMENT = re.compile(r"# (HELP|TYPE) ({0})(?: (.*))?".format(_NAME))
PLAIN_HELP = re.compile(r"(?:[^\\\s]|\\[\\n])(?:[^\\]|\\[\\n])*")
ESCAPE = re.compile(r"\\([\\n\"])")
# Sample names of a family per type, as prometheus_client assigns them.
SUFFIXES = {"counter": ("",), "gauge": ("",), "untyped": ("",), "summary": ("_count", "_sum", ""),
            "histogram": ("_count", "_sum", "_bucket")}


# A metric family and a sample as prometheus_client's parser gives them (its own have more fields).
Family = namedtuple("Family", "name type documentation samples")
Sample = namedtuple("Sample", "name labels value")
# Sample(...) runs a Python __new__; this is the same tuple at half the cost, for the loops per series.
_new_sample = functools.partial(tuple.__new__, Sample)


class ExpositionError(ValueError):
    """The metrics are not valid exposition text; ``str()`` is the message."""


class MissingLibrary(ImportError):
    """A library these metrics need is not installed; ``library`` names it (for missing_required_lib)."""

    def __init__(self, library):
        super(MissingLibrary, self).__init__("{0} is not installed".format(library))
        self.library = library
        self.traceback = traceback.format_exc()  # of the ImportError being handled


def escape_label_value(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(text):
    return ESCAPE.sub(lambda match: "\n" if match.group(1) == "n" else match.group(1), text)


def format_value(value):
    """A sample value as the Go client writes it (``+Inf``, ``-Inf``, ``NaN``)."""
    value = float(value)
    if value.is_integer() and -1e15 < value < 1e15:  # False for NaN and the infinities
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if value in (INF, -INF):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def format_labels(labels):
    if not labels:
        return ""
    values = "".join(labels.values())
    if "\\" in values or '"' in values or "\n" in values:
        return "{" + ",".join([k + '="' + escape_label_value(v) + '"' for k, v in labels.items()]) + "}"
    # Most values need no escape: three searches of all values at once beat three replace() calls each.
    return "{" + ",".join([k + '="' + v + '"' for k, v in labels.items()]) + "}"


def write_families(families):
    """Exposition text of ``[{name, type, help, samples: [(name, labels, value)]}]``."""
    lines = []
    for family in families:
        if family.get("help"):
            lines.append("# HELP {0} {1}".format(family["name"], escape_help(family["help"])))
        lines.append("# TYPE {0} {1}".format(family["name"], family["type"]))
        lines.extend([name + format_labels(labels) + " " + format_value(value)
                      for name, labels, value in family["samples"]])
    return "\n".join(lines) + "\n" if lines else ""


def _value(variable, index, raw):
    """The float value of structured entry ``index`` (its message built only when it is wrong)."""
    if not isinstance(raw, bool):
        try:
            return float(raw)
        except (TypeError, ValueError, OverflowError):
            pass
    where = "{0}[{1}].value".format(variable, index)
    if raw is None:
        raise ExpositionError("{0}: required".format(where))
    if isinstance(raw, bool):
        raise ExpositionError("{0}: expected a number, got a boolean".format(where))
    raise ExpositionError("{0}: expected a number (or +Inf, -Inf, NaN), got {1!r}".format(where, raw))


def families_from_structured(metrics, variable="metrics"):
    """Turn the module's structured ``metrics`` list into families, checking every field.

    Entries with the same name become samples of one family; they must agree on
    type and help.
    """
    families = {}
    order = []
    good_label_names = set()  # each name checked once: 50 000 entries repeat a handful of names
    for index, metric in enumerate(metrics):
        if not isinstance(metric, dict) or not STRUCTURED_KEYS.issuperset(metric):
            _refuse_entry(variable, index, metric)
        name = metric.get("name")
        if not isinstance(name, str) or (name not in families and not METRIC_NAME.match(name)):
            raise ExpositionError("{0}[{1}].name: expected a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*, "
                                  "got {2!r}".format(variable, index, name))
        if name in GATEWAY_METRICS:
            raise ExpositionError("{0}[{1}].name: {2} is set by the Pushgateway itself".format(variable, index, name))
        value = metric.get("value")
        if not isinstance(value, float):  # a float needs no check; anything else goes through one
            value = _value(variable, index, value)
        mtype = metric.get("type") or "gauge"
        help_text = metric.get("help") or ""
        family = families.get(name)
        if family is None:
            if mtype not in STRUCTURED_TYPES:
                raise ExpositionError("{0}[{1}].type: expected one of {2} (use metrics_text for histograms and "
                                      "summaries), got {3!r}".format(variable, index, ", ".join(STRUCTURED_TYPES),
                                                                     mtype))
            if not isinstance(help_text, str):
                raise ExpositionError("{0}[{1}].help: expected a string".format(variable, index))
            family = families[name] = {"name": name, "type": mtype, "help": help_text, "samples": []}
            order.append(name)
        elif family["type"] != mtype or family["help"] != help_text:
            raise ExpositionError("{0}[{1}]: metric {2} appears with a different type or help than before".format(
                variable, index, name))
        labels = metric.get("labels")
        if isinstance(labels, dict) and good_label_names.issuperset(labels) and _all_strings(labels.values()):
            labels = dict(sorted(labels.items()))  # the usual entry (names checked before, string values), inline
        else:
            labels = _structured_labels(variable, index, labels, good_label_names)
        family["samples"].append((name, labels, value))
    return [families[n] for n in order]


def _all_strings(values):
    """Whether every value is a string, tested by joining them: one C loop instead of a Python one."""
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def _refuse_entry(variable, index, metric):
    if not isinstance(metric, dict):
        raise ExpositionError("{0}[{1}]: expected a mapping with name and value".format(variable, index))
    raise ExpositionError("{0}[{1}]: unknown keys {2}; expected name, value, type, help, labels".format(
        variable, index, ", ".join(sorted(set(metric) - STRUCTURED_KEYS))))


def _structured_labels(variable, index, labels, good_names):
    """The labels of one structured entry, checked, values as strings, sorted by name."""
    if not labels:
        return {}
    if not isinstance(labels, dict):
        raise ExpositionError("{0}[{1}].labels: expected a mapping of label names to values".format(variable, index))
    clean = {}
    for key in sorted(labels):
        if key not in good_names:
            if not validation.is_prometheus_label_name(key):
                raise ExpositionError("{0}[{1}].labels: {2!r} is not a valid label name".format(variable, index, key))
            good_names.add(key)
        val = labels[key]
        if not isinstance(val, str):
            if isinstance(val, (dict, list)) or val is None:
                raise ExpositionError("{0}[{1}].labels.{2}: expected a string value".format(variable, index, key))
            val = str(val)
        clean[key] = val
    return clean


def normalise_text(text):
    """LF line ends and a final newline: the Pushgateway's parser wants both."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def _family(name, help_text, mtype, samples):
    """A :data:`Family` named as prometheus_client's parser names it: a counter family
    without ``_total``, its samples with it; ``untyped`` is ``unknown``. The one place
    for this naming: parsed text, structured metrics and the group read back all pass here."""
    if mtype == "counter":
        if name.endswith("_total"):
            name = name[:-len("_total")]
        else:
            samples = [_new_sample((sample[0] + "_total", sample[1], sample[2])) for sample in samples]
    return Family(name, "unknown" if mtype == "untyped" else mtype, help_text, samples)


def metric_families(families):
    """:data:`Family` list of :func:`families_from_structured` output (no text round trip)."""
    return [_family(f["name"], f["help"], f["type"], f["samples"]) for f in families]


def _parse_plain(text):
    """The families of ``text`` when every line is in the plain layout, else None.

    Anything unusual -- a sample outside its family, a second HELP or TYPE, a family
    that comes back, a timestamp, another escape, a Pushgateway metric -- returns None
    and so goes to prometheus_client, which accepts it or words the error.
    """
    families, seen = [], set()
    name = help_text = mtype = None
    samples, allowed = [], ()
    sample_line, label_pairs = PLAIN_SAMPLE.fullmatch, PLAIN_LABEL.findall
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] != "#":
            # Inline rather than a function per line: this loop runs once per series.
            match = sample_line(line)
            if match is None:
                return None
            sample_name, label_text, value = match.groups()
            if sample_name not in allowed:
                return None
            labels = {}
            if label_text:
                pairs = label_pairs(label_text)
                labels = dict(pairs) if "\\" not in label_text else dict((k, _unescape(v)) for k, v in pairs)
                if len(labels) != len(pairs):
                    return None  # a repeated label name: prometheus_client words the error
            samples.append(_new_sample((sample_name, labels, float(value))))
            continue
        match = PLAIN_COMMENT.fullmatch(line)
        if match is None or line[-1].isspace():
            return None
        kind, new_name, rest = match.groups()
        if new_name != name:
            if new_name in seen:
                return None
            if name is not None:
                families.append(_family(name, help_text or "", mtype or "untyped", samples))
            seen.add(new_name)
            name, help_text, mtype, samples = new_name, None, None, []
        elif samples:
            return None
        if kind == "HELP" and help_text is None and (rest is None or PLAIN_HELP.fullmatch(rest)):
            help_text = _unescape(rest or "")
        elif kind == "TYPE" and mtype is None and rest in SUFFIXES:
            mtype = rest
        else:
            return None
        # The Pushgateway's own metrics are not allowed, so prometheus_client's path refuses them.
        allowed = [n for n in (name + s for s in SUFFIXES[mtype or "untyped"]) if n not in GATEWAY_METRICS]
    if name is not None:
        families.append(_family(name, help_text or "", mtype or "untyped", samples))
    return families


def _prometheus_client_families(text):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        # Imported here, not at the top: about 0.1 s that plain text and structured metrics never need.
        raise MissingLibrary("prometheus_client")
    return list(text_string_to_metric_families(text))


def parse(text, variable="metrics_text"):
    """Parse exposition text; raise :class:`ExpositionError` naming ``variable``.

    Raises :class:`MissingLibrary` when the text needs prometheus_client and it is not installed.
    """
    families = _parse_plain(text)
    if families is not None:
        return families
    try:
        families = _prometheus_client_families(text)
    except MissingLibrary:
        raise
    except Exception as err:  # the parser raises ValueError, IndexError, KeyError...
        raise ExpositionError("{0}: not valid Prometheus text format: {1}".format(variable, err))
    for family in families:
        for sample in family.samples:
            if sample.timestamp is not None:
                raise ExpositionError("{0}: sample {1} has a timestamp; the Pushgateway rejects pushed "
                                      "timestamps".format(variable, sample.name))
            if sample.name in GATEWAY_METRICS:
                raise ExpositionError("{0}: {1} is set by the Pushgateway itself".format(variable, sample.name))
    # The same three-field samples as the plain reader's (canonical() unpacks them).
    return [Family(f.name, f.type, f.documentation, [Sample(*s[:3]) for s in f.samples]) for f in families]


def _label_value(name, value):
    """le and quantile in one spelling (le="1" and le="1.0" are one bucket)."""
    if name in NUMERIC_LABELS:
        try:
            return format_value(value)
        except ValueError:
            return value
    return value


def series_labels(labels, grouping_key):
    """The sorted labels that tell a series apart within its group: the grouping labels
    (the Pushgateway adds them) and empty values (Prometheus drops them) left out, le and
    quantile in one spelling."""
    key = [(k, v) for k, v in labels.items() if v != "" and k not in grouping_key]
    if "le" in labels or "quantile" in labels:
        key = [(k, _label_value(k, v)) for k, v in key]
    key.sort()
    return tuple(key)


def _check_grouping(variable, name, labels, grouping_key):
    """A sample label that repeats a grouping label must carry the same value."""
    for key, val in labels.items():
        if key in grouping_key and grouping_key[key] != val:
            raise ExpositionError("{0}: sample {1} has label {2}={3!r} but the grouping key says {2}={4!r}".format(
                variable, name, key, val, grouping_key[key]))


def canonical(families, grouping_key, variable="metrics_text"):
    """{(family name, type): (help, {(sample name, labels): value})} for comparison.

    Keyed by type as well: prometheus_client names a counter ``x_total`` family ``x``,
    the same as a gauge ``x`` beside it. Labels as :func:`series_labels` gives them;
    values are floats, NaN as "NaN" (NaN is not equal to itself). Refuses, naming
    ``variable``, what the Pushgateway would refuse or store as something else: a sample
    label that repeats a grouping label with another value, and the same series twice
    in one push. ``variable`` None: a group read back from the Pushgateway, whose every
    sample carries the grouping labels (not checked).
    """
    result = {}
    grouping_names = grouping_key.keys()
    for family in families:
        # A family may come back in prometheus_client's output; its series are one set.
        samples = result.setdefault((family.name, family.type), (family.documentation or "", {}))[1]
        for name, labels, value in family.samples:
            # The usual pushed series -- no grouping label, no empty value, no le or quantile -- is
            # keyed by all its labels, with no filtering: this loop runs once per series on each side.
            if not labels:
                label_key = ()
            elif (grouping_names.isdisjoint(labels) and "" not in labels.values() and "le" not in labels
                  and "quantile" not in labels):
                label_key = tuple(sorted(labels.items()))
            else:
                if variable is not None and not grouping_names.isdisjoint(labels):
                    _check_grouping(variable, name, labels, grouping_key)
                label_key = series_labels(labels, grouping_names)
            key = (name, label_key)
            if key in samples and variable is not None:
                raise ExpositionError(
                    "{0}: the series {1}{2} is given more than once; the Pushgateway refuses a push with the same "
                    "metric name and labels twice (grouping labels and empty label values do not tell series "
                    "apart)".format(variable, name, format_labels(dict(label_key))))
            value = float(value)
            samples[key] = "NaN" if math.isnan(value) else value
    return dict((key, entry) for key, entry in result.items() if entry[1])


def _json_samples(name, mtype, metric):
    labels = metric.get("labels") or {}
    if mtype == "histogram":
        samples = [(name + "_bucket", dict(labels, le=le), v) for le, v in (metric.get("buckets") or {}).items()]
        return samples + [(name + "_sum", labels, metric.get("sum")), (name + "_count", labels, metric.get("count"))]
    if mtype == "summary":
        samples = [(name, dict(labels, quantile=q), v) for q, v in (metric.get("quantiles") or {}).items()]
        return samples + [(name + "_sum", labels, metric.get("sum")), (name + "_count", labels, metric.get("count"))]
    return [(name, labels, metric.get("value"))]


def _api_families(group):
    """(name, lower-case type, help, samples) of each metric family of a ``/api/v1/metrics`` group."""
    for name in sorted(group):
        entry = group[name]
        if name in ("labels", "last_push_successful") or name in GATEWAY_METRICS or not isinstance(entry, dict):
            continue
        mtype = (entry.get("type") or "untyped").lower()
        metrics = entry.get("metrics") or []
        if mtype in ("histogram", "summary"):
            samples = [sample for metric in metrics for sample in _json_samples(name, mtype, metric)]
        else:  # one sample a metric: the common case, without a list per metric
            samples = [(name, metric.get("labels") or {}, metric.get("value")) for metric in metrics]
        yield name, mtype, entry.get("help") or "", samples


def group_text_from_api(group):
    """Exposition text of one group as ``/api/v1/metrics`` of the Pushgateway returns it."""
    return write_families([{"name": name, "type": mtype, "help": help_text, "samples": samples}
                           for name, mtype, help_text, samples in _api_families(group)])


def canonical_from_api(group, grouping_key):
    """:func:`canonical` of a group read from ``/api/v1/metrics``, without a text round trip.

    Gives the same result as ``canonical(parse(group_text_from_api(group)))`` (a unit test
    holds the two together): the families are named by :func:`_family`, as parsed text is.
    """
    return canonical([_family(name, help_text, mtype, samples)
                      for name, mtype, help_text, samples in _api_families(group)], grouping_key, None)


def predict(current, wanted, method):
    """The group's canonical content after a push: PUT replaces it, POST replaces same-named families."""
    if method == "put":
        return dict(wanted)
    result = dict(current)
    result.update(wanted)
    return result


def series_count(canonical_group):
    return sum(len(samples) for _help, samples in canonical_group.values())
