# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks shared by every builder.

Each check takes the *variable name* the value came from, so that the error a user
sees names what to fix (``istio_metrics_clients[1].namespace: ...``). Builders raise
:class:`ValidationError`; modules turn it into ``fail_json(msg=str(err))``.
The messages never echo values of options that may be secret: callers pass
``show_value=False`` for those.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN_PART = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# IANA_SVC_NAME as Kubernetes checks it for named container/Service ports.
PORT_NAME = re.compile(r"^(?=.{1,15}$)(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HOSTNAME_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class ValidationError(ValueError):
    """A user input is wrong. ``str(err)`` is the message to show, variable first."""

    def __init__(self, variable, expected, value=None, show_value=True):
        self.variable = variable
        message = "{0}: {1}".format(variable, expected)
        if show_value and value is not None:
            message += " (got {0!r})".format(value)
        super(ValidationError, self).__init__(message)


def _require_string(variable, value):
    if not isinstance(value, str) or value == "":
        raise ValidationError(variable, "expected a non-empty string", value)
    return value


def dns1123_label(variable, value):
    """Namespace, Service and most object names: RFC 1123 label, at most 63 characters."""
    _require_string(variable, value)
    if not DNS1123_LABEL.match(value):
        raise ValidationError(
            variable,
            "expected a Kubernetes name: at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit",
            value,
        )
    return value


def dns1123_subdomain(variable, value):
    """Object names that may contain dots (Secrets, ConfigMaps, ServiceAccounts)."""
    _require_string(variable, value)
    if len(value) > 253 or not all(DNS1123_SUBDOMAIN_PART.match(p) for p in value.split(".")):
        raise ValidationError(
            variable,
            "expected a DNS subdomain: at most 253 lower-case letters, digits, '-' and '.'",
            value,
        )
    return value


def hostname(variable, value, allow_wildcard=False):
    """An Ingress host: a fully qualified DNS name, optionally ``*.`` in front."""
    _require_string(variable, value)
    name = value
    if allow_wildcard and name.startswith("*."):
        name = name[2:]
    labels = name.split(".")
    if (
        len(name) > 253
        or len(labels) < 2
        or not all(HOSTNAME_LABEL.match(label) for label in labels)
    ):
        raise ValidationError(
            variable,
            "expected a fully qualified DNS host name in lower case, such as prometheus.example.com",
            value,
        )
    return value


def label_key(variable, value):
    """A label or annotation key: optional DNS-subdomain prefix, '/', and a name."""
    _require_string(variable, value)
    prefix, slash, name = value.rpartition("/")
    if slash:
        try:
            dns1123_subdomain(variable, prefix)
        except ValidationError:
            raise ValidationError(variable, "label key prefix must be a DNS subdomain", value)
    if not LABEL_NAME.match(name):
        raise ValidationError(
            variable,
            "expected a label key: at most 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit, with an optional 'prefix/'",
            value,
        )
    return value


def label_value(variable, value):
    if not isinstance(value, str):
        raise ValidationError(variable, "expected a string label value", value)
    if not LABEL_VALUE.match(value):
        raise ValidationError(
            variable,
            "expected a label value: at most 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit",
            value,
        )
    return value


def labels(variable, value, allow_empty=False):
    """A mapping of label keys to values, as in a selector's ``matchLabels``."""
    if not isinstance(value, dict):
        raise ValidationError(variable, "expected a mapping of label keys to values", value)
    if not value and not allow_empty:
        raise ValidationError(variable, "expected at least one label; an empty selector matches everything")
    for key, val in value.items():
        label_key("{0}.{1}".format(variable, key), key)
        label_value("{0}.{1}".format(variable, key), val)
    return value


def cidr(variable, value):
    """An IPv4 or IPv6 network in CIDR form; a bare address is taken as /32 or /128."""
    _require_string(variable, value)
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValidationError(variable, "expected a CIDR such as 10.0.0.0/8: {0}".format(err), value)
    return str(network)


def port_number(variable, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValidationError(variable, "expected a port number from 1 to 65535", value)
    return value


def port(variable, value):
    """A port given as a number (1-65535) or as a container port name."""
    if isinstance(value, int) and not isinstance(value, bool):
        return port_number(variable, value)
    if isinstance(value, str) and value.isdigit():
        return port_number(variable, int(value))
    if isinstance(value, str) and PORT_NAME.match(value) and re.search("[a-z]", value):
        return value
    raise ValidationError(
        variable,
        "expected a port number from 1 to 65535 or a port name "
        "(at most 15 lower-case letters, digits and '-')",
        value,
    )


def non_empty_list(variable, value):
    if not isinstance(value, list) or not value:
        raise ValidationError(variable, "expected a non-empty list", value)
    return value


def one_of(variable, value, choices):
    if value not in choices:
        raise ValidationError(variable, "expected one of {0}".format(", ".join(sorted(choices))), value)
    return value


COMPONENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
API_VERSION = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?$")
KIND = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")


def component(variable, value):
    """A role name as used in ownership labels and render directories (``istio_metrics``)."""
    _require_string(variable, value)
    if not COMPONENT.match(value):
        raise ValidationError(variable, "expected a role name: lower-case letters, digits and '_', "
                                        "starting with a letter, at most 63 characters", value)
    return value


def api_version(variable, value):
    _require_string(variable, value)
    if not API_VERSION.match(value):
        raise ValidationError(variable, "expected an API version such as v1 or monitoring.coreos.com/v1", value)
    return value


def kind(variable, value):
    _require_string(variable, value)
    if not KIND.match(value):
        raise ValidationError(variable, "expected a Kind such as PodMonitor", value)
    return value


def http_url(variable, value):
    """An http(s) URL with a host, such as http://pushgateway.monitoring:9091."""
    _require_string(variable, value)
    scheme, sep, rest = value.partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2]
    if not sep or scheme.lower() not in ("http", "https") or not host or host.startswith(":") or " " in value:
        raise ValidationError(variable, "expected an http:// or https:// URL with a host", value)
    return value


# A Prometheus duration, as the prometheus-operator CRDs enforce it on `interval`.
DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")
PROMETHEUS_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def duration(variable, value):
    """A non-zero Prometheus duration such as 30s or 1m30s; None passes (unset)."""
    if value is None:
        return None
    if not isinstance(value, str) or value in ("", "0") or not DURATION.match(value):
        raise ValidationError(variable, "expected a Prometheus duration such as 30s, 1m or 1m30s", value)
    return value


def is_prometheus_label_name(name):
    """A label name a user may set: Prometheus's syntax, and not reserved (``__`` prefix)."""
    return isinstance(name, str) and bool(PROMETHEUS_LABEL_NAME.match(name)) and not name.startswith("__")


def basic_auth_username(variable, value):
    """A Basic-auth user name that survives htpasswd files and HTTP headers.

    ``:`` ends the name in the Authorization header and in htpasswd lines, a line
    break splits the line, and a leading ``#`` makes the line a comment (the user
    would be rehashed on every run and never log in).
    """
    if not isinstance(value, str) or not value or ":" in value or value.startswith("#") \
            or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(variable, "expected a non-empty user name without ':', control characters or a "
                                        "leading '#'", value)
    return value


_LABEL_MATCHER = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\\n]|\\.)*"\s*'
SERIES_SELECTOR = re.compile(r'^\s*(?P<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)?\s*'
                             r'(\{(?P<matchers>(' + _LABEL_MATCHER + r'(,' + _LABEL_MATCHER + r')*,?\s*)?)\})?\s*$')


def series_selector(variable, value):
    """A PromQL series selector as /federate takes it: ``name``, ``{matchers}`` or both.

    Label values in double quotes (the form this collection writes); Prometheus also
    refuses a selector whose matchers all match the empty string, and so does this.
    """
    match = SERIES_SELECTOR.match(value) if isinstance(value, str) else None
    if not match or not (match.group("metric") or match.group("matchers")):
        raise ValidationError(variable, "expected a series selector such as 'up' or '{job=\"node\"}'", value)
    matchers = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\\n]|\\.)*)"',
                          match.group("matchers") or "")
    for dummy, operator, text in matchers:
        if operator in ("=~", "!~") and not _is_re2(text.replace("\\\\", "\\")):
            raise ValidationError(variable, "{0!r} is not a regular expression Prometheus (RE2) takes".format(text),
                                  value)
    if not match.group("metric"):
        if all(_matches_empty(operator, text) for dummy, operator, text in matchers):
            raise ValidationError(variable, "a selector must have at least one matcher that does not match the "
                                            "empty string, e.g. '{job=~\".+\"}'", value)
    return value


def _is_re2(pattern):
    """Python's re compiles it, and it uses nothing RE2 lacks (look-around, back-references)."""
    if re.search(r"\(\?[=!<]|\\[1-9]", pattern):
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _matches_empty(operator, text):
    if operator == "=":
        return text == ""
    if operator == "!=":
        return text != ""
    try:
        matches = re.fullmatch(text.replace("\\\\", "\\"), "") is not None
    except re.error:
        return False
    return matches if operator == "=~" else not matches
