# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builder of the monitors_and_alerts role.

PodMonitors for Fluent Bit's HTTP server and the ingress-nginx controller, and alert
rule groups for what the collection deploys (Pushgateway groups, the external-access
Ingress, Fluent Bit), rendered to the platform's own rule resource: PrometheusRule on
prometheus-operator clusters, cluster-scoped CustomPrometheusRules on Deckhouse. One
object per rule group, so switching a group off prunes exactly that object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import platforms, validation
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import owned
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

COMPONENT = "monitors_and_alerts"
PREFIX = COMPONENT + "_"
POD_MONITOR_API = {"api_version": "monitoring.coreos.com/v1", "kind": "PodMonitor"}
PROMETHEUS_RULE_API = {"api_version": "monitoring.coreos.com/v1", "kind": "PrometheusRule"}
DECKHOUSE_RULES_API = {"api_version": "deckhouse.io/v1", "kind": "CustomPrometheusRules"}

# Per preset: where monitors and rules go, the labels its Prometheus selects them by,
# the rule resource, and the workloads it knows where to find (platforms.py).
PRESETS = {
    "kube-prometheus-stack": {"namespace": "monitoring", "monitor_labels": {}, "rules_api": PROMETHEUS_RULE_API},
    "verrazzano": {"namespace": "verrazzano-monitoring", "monitor_labels": platforms.VERRAZZANO_MONITOR_SELECTOR,
                   "rules_api": PROMETHEUS_RULE_API},
    # Deckhouse: no default namespace for monitors (it must carry the monitor-watcher
    # label, and d8-* namespaces belong to the platform); rules are cluster-scoped.
    "deckhouse": {"namespace": None, "monitor_labels": platforms.DECKHOUSE_MONITOR_SELECTOR,
                  "rules_api": DECKHOUSE_RULES_API},
}
# Deckhouse's controllers export their own request metrics (ingress_nginx_detail_*), not
# ingress-nginx's nginx_ingress_controller_requests the external-access group reads.
DECKHOUSE_EXTERNAL_ACCESS_NOTE = ("Deckhouse's ingress controllers do not export nginx_ingress_controller_requests, "
                                  "which these alerts read (Deckhouse has its own ingress metrics)")
DECKHOUSE_INGRESS_NOTE = platforms.DECKHOUSE_SCRAPES_INGRESS + "; no PodMonitor is rendered for the ingress controller"

_WORKLOAD = dict(enabled=dict(type="bool"), namespace=dict(type="str"), pod_labels=dict(type="dict"),
                 port=dict(type="str"), monitor_name=dict(type="str"))
_SEVERITY = dict(type="str", default="warning", choices=["info", "warning", "critical"])
ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    preset=dict(type="str", default="kube-prometheus-stack", choices=sorted(PRESETS)),
    namespace=dict(type="str"),
    monitor_labels=dict(type="dict", default={}),
    scrape_interval=dict(type="str"),
    fluent_bit=dict(type="dict", default={}, options=dict(_WORKLOAD, path=dict(type="str"))),
    ingress_controller=dict(type="dict", default={}, options=_WORKLOAD),
    pushgateway_alerts=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=False),
        stale_after=dict(type="str", default="1h"),
        stale_after_by_job=dict(type="dict", default={}),
        failed_for=dict(type="str", default="5m"),
        severity=_SEVERITY,
    )),
    external_access_alerts=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool", default=False),
        host=dict(type="str"),
        auth_failures_per_second=dict(type="float", default=1.0),
        error_ratio=dict(type="float", default=0.05),
        for_duration=dict(type="str", default="10m"),
        severity=_SEVERITY,
    )),
    fluent_bit_alerts=dict(type="dict", default={}, options=dict(
        enabled=dict(type="bool"),
        job=dict(type="str"),
        errors_per_second=dict(type="float", default=0.0),
        for_duration=dict(type="str", default="15m"),
        severity=_SEVERITY,
    )),
)


def _var(name):
    return PREFIX + name


def _sub(spec, given):
    """A sub-option mapping with its defaults filled in (the action validates nested defaults too)."""
    options = ARGUMENT_SPEC[spec]["options"]
    values = dict((k, copy.deepcopy(v.get("default"))) for k, v in options.items())
    values.update(dict((k, v) for k, v in (given or {}).items() if v is not None))
    return values


def seconds(variable, text):
    """A Prometheus duration in seconds (for ``time() - push_time_seconds > N``)."""
    validation.duration(variable, text)
    units = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    total = sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|y|w|d|h|m|s)", text))
    if total <= 0:
        raise ValidationError(variable, "must be longer than 0", text)
    return int(total) if total == int(total) else total


def _rule(alert, expr, for_, severity, summary, description, runbook):
    rule = {"alert": alert, "expr": expr}
    if for_ and for_ != "0s":
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description, "runbook": runbook}
    return rule


def _quote(value):
    """A PromQL string literal."""
    return '"{0}"'.format(value.replace("\\", "\\\\").replace('"', '\\"'))


def pushgateway_rules(alerts):
    """Stale groups (per-job thresholds) and groups whose last push failed."""
    variable = _var("pushgateway_alerts")
    default = seconds(variable + ".stale_after", alerts["stale_after"])
    by_job = alerts["stale_after_by_job"] or {}
    severity = alerts["severity"]
    runbook = ("The job that pushes this group has not pushed since the threshold: check whether its CronJob "
               "or pipeline still runs and can reach the Pushgateway (push_failure_time_seconds tells a "
               "failing push from a job that no longer runs). Delete the group when the job is gone.")
    # One rule with the thresholds or-ed (not one rule per threshold): promtool's lint
    # flags same-named rules with the same labels as duplicates.
    ages, thresholds = [], []
    for job in sorted(by_job):
        if not isinstance(job, str) or not job:
            raise ValidationError(variable + ".stale_after_by_job", "keys must be job names", job)
        limit = seconds("{0}.stale_after_by_job.{1}".format(variable, job), by_job[job])
        ages.append("time() - push_time_seconds{{job={0}}} > {1}".format(_quote(job), limit))
        thresholds.append("{0} {1}".format(job, by_job[job]))
    others = "{{job!~{0}}}".format(_quote("|".join(re.escape(job) for job in sorted(by_job)))) if by_job else ""
    ages.append("time() - push_time_seconds{0} > {1}".format(others, default))
    thresholds.append("{0} for every other job".format(alerts["stale_after"]))
    rules = [_rule(
        "PushgatewayGroupStale", " or ".join("({0})".format(age) for age in ages) if by_job else ages[0], None,
        severity, "Pushgateway group of job {{ $labels.job }} is stale",
        "No successful push for {{ $value | humanizeDuration }} (thresholds: " + "; ".join(thresholds) + ").",
        runbook)]
    validation.duration(variable + ".failed_for", alerts["failed_for"])
    rules.append(_rule(
        "PushgatewayPushFailed", "push_failure_time_seconds > push_time_seconds", alerts["failed_for"], severity,
        "The last push to the group of job {{ $labels.job }} failed",
        "The Pushgateway refused the group's last push (push_failure_time_seconds is newer than "
        "push_time_seconds); it still serves the metrics of the last good push.",
        "Read the pushing job's log: the Pushgateway answers a refused push with the reason (an inconsistent "
        "metric type, a duplicate series, a label clash with the grouping key)."))
    return rules


def external_access_rules(alerts):
    variable = _var("external_access_alerts")
    host = alerts.get("host")
    if not host:
        raise ValidationError(variable + ".host", "is required with the external-access alerts "
                              "(the host of the prometheus_external_access Ingress)", host)
    validation.hostname(variable + ".host", host)
    validation.duration(variable + ".for_duration", alerts["for_duration"])
    if alerts["auth_failures_per_second"] <= 0:
        raise ValidationError(variable + ".auth_failures_per_second", "must be greater than 0",
                              alerts["auth_failures_per_second"])
    if not 0 < alerts["error_ratio"] < 1:
        raise ValidationError(variable + ".error_ratio", "must be between 0 and 1", alerts["error_ratio"])

    def rate(matchers=""):
        return "sum by (host) (rate(nginx_ingress_controller_requests{{host={0}{1}}}[5m]))".format(
            _quote(host), matchers)

    failed, errors, total = rate(', status=~"401|403"'), rate(', status=~"5.."'), rate()
    return [
        _rule("PrometheusExternalAccessAuthFailures",
              "{0} > {1}".format(failed, alerts["auth_failures_per_second"]), alerts["for_duration"], alerts["severity"],
              "Many refused requests to the external Prometheus endpoint {{ $labels.host }}",
              "{{ $value | humanize }} requests/s answered 401 or 403 (threshold "
              + str(alerts["auth_failures_per_second"]) + "): someone is guessing credentials, or a client "
              "has an old password or a new source address.",
              "Read the ingress controller's access log for the sources; a known client with a rotated "
              "password needs the new one, an unknown source should already be outside the allowlist."),
        _rule("PrometheusExternalAccessErrors",
              "{0} / {1} > {2}".format(errors, total, alerts["error_ratio"]), alerts["for_duration"], alerts["severity"],
              "The external Prometheus endpoint {{ $labels.host }} answers 5xx",
              "{{ $value | humanizePercentage }} of the requests end in 5xx (threshold "
              + str(alerts["error_ratio"]) + ").",
              "A 502/503 means the ingress controller cannot reach Prometheus over HTTPS (client certificate, "
              "CA, Prometheus down); a 504 a query slower than the proxy time-out."),
    ]


def fluent_bit_rules(alerts, job):
    variable = _var("fluent_bit_alerts")
    validation.duration(variable + ".for_duration", alerts["for_duration"])
    if alerts["errors_per_second"] < 0:
        raise ValidationError(variable + ".errors_per_second", "must not be negative", alerts["errors_per_second"])
    selector = "{{job={0}}}".format(_quote(job))
    return [
        _rule("FluentBitOutputErrors",
              "sum by (namespace, pod, name) (rate(fluentbit_output_errors_total{0}[5m])) > {1}".format(
                  selector, alerts["errors_per_second"]), alerts["for_duration"], alerts["severity"],
              "Fluent Bit output {{ $labels.name }} on {{ $labels.pod }} fails",
              "The output returns errors ({{ $value | humanize }}/s); records are retried and may be dropped.",
              "Check that the log store behind the output is up and accepts the records (credentials, index "
              "limits, disk); the pod's log names the error."),
        _rule("FluentBitOutputRetriesFailed",
              "sum by (namespace, pod, name) (increase(fluentbit_output_retries_failed_total{0}[15m])) > 0".format(
                  selector), None, alerts["severity"],
              "Fluent Bit output {{ $labels.name }} on {{ $labels.pod }} dropped records",
              "Retries ran out for {{ $value | humanize }} chunks in 15 minutes: those logs are lost.",
              "Fix the output first (see FluentBitOutputErrors); raise Retry_Limit or add filesystem buffering "
              "if the store is often away for longer than the retries last."),
        _rule("FluentBitDown", "up{0} == 0".format(selector), "5m", alerts["severity"],
              "Prometheus cannot scrape Fluent Bit on {{ $labels.pod }}",
              "The scrape of Fluent Bit's HTTP server fails: the pod is down, HTTP_Server is off, or a "
              "NetworkPolicy keeps Prometheus out.",
              "Check the pod, that Fluent Bit's [SERVICE] section has HTTP_Server On and HTTP_Port "
              + str(platforms.FLUENT_BIT_PORT) + ", and the network_policies role's fluent_bit component."),
        # up == 0 says nothing when there is no target at all: a selector or port name that
        # matches no pod, or a Prometheus that does not select the PodMonitor.
        _rule("FluentBitNotScraped", "absent(up{0})".format(selector), "15m", alerts["severity"],
              "Prometheus has no Fluent Bit target (job " + job + ")",
              "No scrape target of job " + job + " exists, so the other Fluent Bit alerts cannot fire.",
              "Compare the PodMonitor's namespace, pod labels and port name with the Fluent Bit pods, and the "
              "Prometheus podMonitorSelector with the PodMonitor's labels; on Deckhouse the PodMonitor's "
              "namespace needs the label prometheus.deckhouse.io/monitor-watcher-enabled=true."),
    ]


def _workload(name, given, preset_name):
    """The workload to scrape, from the user's values over the preset's; None when switched off."""
    known = {"fluent_bit": platforms.FLUENT_BIT, "ingress_controller": platforms.INGRESS_NGINX}[name][preset_name]
    variable = _var(name)
    enabled = given.get("enabled")
    if enabled is None:
        enabled = known is not None
    if not enabled:
        return None
    workload = dict(known or {})
    workload.update(dict((k, v) for k, v in given.items() if v is not None and k != "enabled"))
    for key in ("namespace", "pod_labels", "port"):
        if not workload.get(key):
            raise ValidationError("{0}.{1}".format(variable, key), "is required: the {0} preset does not know "
                                  "where {1} runs".format(preset_name, name.replace("_", " ")), workload.get(key))
    validation.dns1123_label(variable + ".namespace", workload["namespace"])
    validation.labels(variable + ".pod_labels", workload["pod_labels"])
    if not isinstance(workload["port"], str) or validation.port(variable + ".port", workload["port"]) != workload["port"]:
        raise ValidationError(variable + ".port", "expected the name of the container port (a PodMonitor selects "
                              "ports by name)", workload["port"])
    workload["monitor_name"] = workload.get("monitor_name") or name.replace("_", "-")
    validation.dns1123_subdomain(variable + ".monitor_name", workload["monitor_name"])
    return workload


def pod_monitor(workload, namespace, labels, path, scrape_interval):
    endpoint = {"port": str(workload["port"]), "path": path}
    if scrape_interval:
        endpoint["interval"] = scrape_interval
    metadata = {"name": workload["monitor_name"], "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": POD_MONITOR_API["api_version"], "kind": POD_MONITOR_API["kind"], "metadata": metadata,
        "spec": {"namespaceSelector": {"matchNames": [workload["namespace"]]},
                 "selector": {"matchLabels": dict(workload["pod_labels"])},
                 "podMetricsEndpoints": [endpoint]},
    }


def rule_object(api, group, rules, namespace, labels):
    """One rule group as the platform's resource; its name is the group's."""
    name = "k8s-monitoring-" + group
    metadata = {"name": name}
    if api == PROMETHEUS_RULE_API:
        metadata["namespace"] = namespace
        if labels:
            metadata["labels"] = dict(labels)
    return {"apiVersion": api["api_version"], "kind": api["kind"], "metadata": metadata,
            "spec": {"groups": [{"name": "k8s-monitoring." + group, "rules": rules}]}}


def monitor_labels(params, preset):
    labels = dict(validation.labels(_var("monitor_labels"), params.get("monitor_labels") or {}, allow_empty=True))
    for key, value in preset["monitor_labels"].items():
        if labels.get(key, value) != value:
            raise ValidationError(_var("monitor_labels"), "sets {0} differently from what the {1} preset's "
                                  "Prometheus selects ({0}={2})".format(key, params["preset"], value), labels[key])
        labels[key] = value
    return labels


def build(params, check_mode=False):
    """Manifests, required APIs and prune kinds of the monitors_and_alerts role."""
    params = dict(params, preset=params.get("preset") or "kube-prometheus-stack")
    preset = PRESETS[params["preset"]]
    rules_api = preset["rules_api"]
    namespace = params.get("namespace") or preset["namespace"]
    result = {"manifests": [], "required_apis": [], "prune_kinds": [dict(POD_MONITOR_API), dict(rules_api)],
              "namespace": namespace or "", "instance": namespace or "cluster", "warnings": []}
    if params.get("state") == "absent":
        return result  # removal needs no inputs: pruning finds the objects by their labels

    labels = monitor_labels(params, preset)
    validation.duration(_var("scrape_interval"), params.get("scrape_interval"))
    fluent_bit = _workload("fluent_bit", params.get("fluent_bit") or {}, params["preset"])
    ingress_given = params.get("ingress_controller") or {}
    if params["preset"] == "deckhouse" and ingress_given.get("enabled"):
        result["warnings"].append("{0}: {1}.".format(_var("ingress_controller"), DECKHOUSE_INGRESS_NOTE))
        ingress_given = dict(ingress_given, enabled=False)
    ingress = _workload("ingress_controller", ingress_given, params["preset"])

    monitors = []
    for workload, path in ((fluent_bit, platforms.FLUENT_BIT_METRICS_PATH),
                           (ingress, platforms.INGRESS_NGINX_METRICS_PATH)):
        if workload:
            if not namespace:
                raise ValidationError(_var("namespace"), "is required for monitors on Deckhouse: a namespace "
                                      "labelled prometheus.deckhouse.io/monitor-watcher-enabled=true", namespace)
            validation.dns1123_label(_var("namespace"), namespace)
            monitors.append(pod_monitor(workload, namespace, labels, path, params.get("scrape_interval")))

    groups = []
    pushgateway = _sub("pushgateway_alerts", params.get("pushgateway_alerts"))
    if pushgateway["enabled"]:
        groups.append(("pushgateway", pushgateway_rules(pushgateway)))
    external = _sub("external_access_alerts", params.get("external_access_alerts"))
    if external["enabled"] and params["preset"] == "deckhouse":
        result["warnings"].append("{0}: {1}; the group is not rendered.".format(
            _var("external_access_alerts"), DECKHOUSE_EXTERNAL_ACCESS_NOTE))
    elif external["enabled"]:
        groups.append(("external-access", external_access_rules(external)))
    fluent_alerts = _sub("fluent_bit_alerts", params.get("fluent_bit_alerts"))
    if fluent_alerts["enabled"] is None:
        fluent_alerts["enabled"] = fluent_bit is not None
    if fluent_alerts["enabled"]:
        job = fluent_alerts.get("job") or (fluent_bit and "{0}/{1}".format(namespace, fluent_bit["monitor_name"]))
        if not job:
            raise ValidationError(_var("fluent_bit_alerts") + ".job", "is required when Fluent Bit is not scraped "
                                  "by this role's PodMonitor (the job label of its scrape)", job)
        groups.append(("fluent-bit", fluent_bit_rules(fluent_alerts, job)))
    if groups and rules_api == PROMETHEUS_RULE_API:
        validation.dns1123_label(_var("namespace"), namespace)
    rule_objects = [rule_object(rules_api, group, rules, namespace, labels) for group, rules in groups]

    if monitors:
        result["required_apis"].append(dict(POD_MONITOR_API, source="prometheus-operator"))
    if rule_objects:
        source = "Deckhouse prometheus module" if rules_api == DECKHOUSE_RULES_API else "prometheus-operator"
        result["required_apis"].append(dict(rules_api, source=source))
    if not monitors and not rule_objects:
        result["warnings"].append("{0}: every monitor and alert group is switched off; nothing is made and earlier "
                                  "objects of this role are removed.".format(COMPONENT))
    result["manifests"] = [owned(m, COMPONENT) for m in monitors + rule_objects]
    return result


def rule_groups(manifests):
    """The rule groups of rendered manifests, as a Prometheus rule file (for promtool)."""
    return {"groups": [group for m in manifests if m["kind"] in ("PrometheusRule", "CustomPrometheusRules")
                       for group in m["spec"]["groups"]]}
