"""The alert rules of the monitors_and_alerts builder, proven by Prometheus's own promtool.

``promtool check rules`` parses the rule file of every preset (PromQL and annotation
templates); ``promtool test rules`` evaluates every alert against input series, with
a case where it fires (its exact labels and rendered annotations) and one where it
must stay quiet. The rule file is generated from ``build()`` into tmp_path, so the
tests follow the builder; a new alert without both kinds of case fails
test_every_alert_has_a_firing_and_a_quiet_case.
"""

import copy
import subprocess

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import monitors_and_alerts
from tests.integration.services import binary

HOST = "prometheus.example.com"
FLUENT_BIT_JOB = "monitoring/fluent-bit"  # prometheus-operator's job label of the role's PodMonitor: <namespace>/<name>
ALL_GROUPS = {
    "state": "present",
    "namespace": "monitoring",
    "pushgateway_alerts": {"enabled": True, "stale_after": "1h", "failed_for": "5m",
                           "stale_after_by_job": {"nightly-report": "26h", "backup.db": "2h"}},
    "external_access_alerts": {"enabled": True, "host": HOST, "auth_failures_per_second": 1.0, "error_ratio": 0.05,
                               "for_duration": "10m", "severity": "critical"},
    "fluent_bit_alerts": {"enabled": True, "errors_per_second": 0.0, "for_duration": "15m", "severity": "info"},
}
PRESETS = sorted(monitors_and_alerts.PRESETS)


def params(preset="kube-prometheus-stack"):
    given = dict(copy.deepcopy(ALL_GROUPS), preset=preset)
    if preset == "kube-prometheus-stack":
        given["monitor_labels"] = {"release": "kube-prometheus-stack"}
    if preset == "deckhouse":  # no Fluent Bit known there: the job of the user's own scrape
        given["fluent_bit_alerts"]["job"] = FLUENT_BIT_JOB
    return given


def rule_file(preset="kube-prometheus-stack"):
    return monitors_and_alerts.rule_groups(monitors_and_alerts.build(params(preset))["manifests"])


def promtool(tmp_path, *args):
    result = subprocess.run([binary("promtool")] + list(args), cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    return result.returncode == 0, result.stdout


def check_rules(tmp_path, rules, lint="none"):
    """promtool's parse of the PromQL and the annotation templates; ``lint`` names its optional lints."""
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return promtool(tmp_path, "check", "rules", "--lint=" + lint, "--lint-fatal", str(path))


def alert_names(rules):
    return sorted(set(rule["alert"] for group in rules["groups"] for rule in group["rules"]))


# --- promtool check rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_promtool_accepts_the_rules_of_every_preset(tmp_path, preset):
    rules = rule_file(preset)
    # Deckhouse's controllers export no nginx_ingress_controller_requests: no external-access group there
    expected = ["pushgateway", "fluent-bit"] if preset == "deckhouse" else ["pushgateway", "external-access", "fluent-bit"]
    assert [group["name"] for group in rules["groups"]] == ["k8s-monitoring." + group for group in expected]
    ok, output = check_rules(tmp_path, rules)
    assert ok, output
    assert "SUCCESS: {0} rules found".format(sum(len(g["rules"]) for g in rules["groups"])) in output, output
    # promtool's lints too (duplicate rules: a rule per stale threshold would be one)
    ok, output = check_rules(tmp_path, rules, lint="all")
    assert ok, output


def _break_expr(rules):
    rules["groups"][0]["rules"][0]["expr"] += " >"


def _break_template(rules):
    rules["groups"][1]["rules"][0]["annotations"]["summary"] = "refused on {{ $labels.host "


@pytest.mark.parametrize("breakage", [_break_expr, _break_template], ids=["expr", "annotation-template"])
def test_the_check_catches_a_broken_rule(tmp_path, breakage):
    """The helper above can fail: promtool refuses a broken expression and a broken template."""
    rules = rule_file()
    breakage(rules)
    ok, output = check_rules(tmp_path, rules)
    assert not ok, output
    assert "FAILED" in output, output


# --- promtool test rules -----------------------------------------------------------------------------------------

def series(metric, labels, values):
    selector = ",".join('{0}="{1}"'.format(k, v) for k, v in sorted(labels.items()))
    return {"series": "{0}{{{1}}}".format(metric, selector), "values": values}


def quiet(eval_time, alertname):
    return {"eval_time": eval_time, "alertname": alertname, "exp_alerts": []}


def fires(eval_time, alertname, *alerts):
    return {"eval_time": eval_time, "alertname": alertname, "exp_alerts": list(alerts)}


def alert(labels, **annotations):
    """An expected alert: its full labels; the annotations with a template in the rule must be given rendered,
    the others may be (else they are the rule's own text)."""
    return {"exp_labels": labels, "exp_annotations": annotations}


def humanize_duration(seconds):
    """Prometheus's humanizeDuration for whole seconds of at least one minute."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "{0}d {1}h {2}m {3}s".format(days, hours, minutes, secs)
    if hours:
        return "{0}h {1}m {2}s".format(hours, minutes, secs)
    return "{0}m {1}s".format(minutes, secs)


def stale(job, minutes_since_push):
    """One stale group: the description gives the group's age and every threshold."""
    return alert({"severity": "warning", "job": job}, summary="Pushgateway group of job {0} is stale".format(job),
                 description="No successful push for {0} (thresholds: backup.db 2h; nightly-report 26h; 1h for "
                             "every other job).".format(humanize_duration(minutes_since_push * 60)))


PUSHED_AT_10M = "600x1700"  # push_time_seconds of a group last pushed at t=600s, for 28h
REQUESTS = "nginx_ingress_controller_requests"
INGRESS = {"host": HOST, "ingress": "prometheus-external", "namespace": "monitoring", "method": "GET",
           "controller_pod": "ingress-nginx-controller-5d9f7", "controller_class": "k8s.io/ingress-nginx"}
OTHER_HOST = dict(INGRESS, host="grafana.example.com", ingress="grafana")
FLUENT_BIT_TARGET = {"job": FLUENT_BIT_JOB, "namespace": "logging", "pod": "fluent-bit-x7k2p",
                     "instance": "10.0.0.5:2020", "container": "fluent-bit", "endpoint": "http"}
OTHER_FLUENT_BIT = dict(FLUENT_BIT_TARGET, job="other/fluent-bit", pod="fluent-bit-q8w3z", instance="10.0.0.6:2020")
ES_OUTPUT = {"namespace": "logging", "pod": "fluent-bit-x7k2p", "name": "es.0"}


def ingress(status, values, target=None):
    return series(REQUESTS, dict(target or INGRESS, status=status), values)


def fluent_bit(metric, name, values, target=None):
    return series(metric, dict(target or FLUENT_BIT_TARGET, name=name), values)


# One promtool test group per case: its input series, then (eval_time, alert, expected) checks.
CASES = {
    "pushgateway-stale-default-threshold": {
        "input_series": [
            series("push_time_seconds", {"job": "hourly-export"}, PUSHED_AT_10M),
            # "backup.db" has its own threshold; the dot of its exclusion must not match any character
            series("push_time_seconds", {"job": "backupXdb"}, PUSHED_AT_10M),
        ],
        "alert_rule_test": [
            quiet("60m", "PushgatewayGroupStale"),  # 50 minutes since the push
            fires("71m", "PushgatewayGroupStale", stale("hourly-export", 61), stale("backupXdb", 61)),
        ],
    },
    "pushgateway-stale-per-job-threshold": {
        "input_series": [
            series("push_time_seconds", {"job": "hourly-export"}, PUSHED_AT_10M),
            series("push_time_seconds", {"job": "backup.db"}, PUSHED_AT_10M),
            series("push_time_seconds", {"job": "nightly-report"}, PUSHED_AT_10M),
        ],
        "alert_rule_test": [
            # 61 minutes: the default threshold fires for its job only, not for the overridden jobs
            fires("71m", "PushgatewayGroupStale", stale("hourly-export", 61)),
            fires("131m", "PushgatewayGroupStale", stale("hourly-export", 121), stale("backup.db", 121)),
            # 25 h: nightly-report's 26 h are not over
            fires("25h10m", "PushgatewayGroupStale", stale("hourly-export", 1500), stale("backup.db", 1500)),
            # each group once: a job with its own threshold is not matched by the default rule too
            fires("26h11m", "PushgatewayGroupStale", stale("hourly-export", 1561), stale("backup.db", 1561),
                  stale("nightly-report", 1561)),
        ],
    },
    "pushgateway-stale-per-job-threshold-only": {
        "input_series": [series("push_time_seconds", {"job": "nightly-report"}, PUSHED_AT_10M)],
        "alert_rule_test": [quiet("2h", "PushgatewayGroupStale"), quiet("26h9m", "PushgatewayGroupStale")],
    },
    "pushgateway-push-failed": {
        "input_series": [
            # pushed at 1m, a refused push at 5m
            series("push_time_seconds", {"job": "etl", "instance": "batch-1"}, "60x40"),
            series("push_failure_time_seconds", {"job": "etl", "instance": "batch-1"}, "0x4 300x35"),
        ],
        "alert_rule_test": [
            quiet("9m", "PushgatewayPushFailed"),  # failed_for (5m) not over
            fires("11m", "PushgatewayPushFailed", alert(
                {"severity": "warning", "job": "etl", "instance": "batch-1"},
                summary="The last push to the group of job etl failed")),
        ],
    },
    "pushgateway-push-failed-then-succeeded": {
        "input_series": [
            # refused at 5m, pushed successfully at 8m: the group is fine again
            series("push_time_seconds", {"job": "etl", "instance": "batch-1"}, "60x7 480x32"),
            series("push_failure_time_seconds", {"job": "etl", "instance": "batch-1"}, "0x4 300x35"),
        ],
        "alert_rule_test": [quiet("11m", "PushgatewayPushFailed"), quiet("30m", "PushgatewayPushFailed"),
                            quiet("30m", "PushgatewayGroupStale")],
    },
    "external-access-auth-failures-above-threshold": {
        "input_series": [
            ingress("401", "0+120x40"),  # 2/s
            ingress("403", "0+60x40"),  # 1/s
            ingress("200", "0+600x40"),
            ingress("401", "0+6000x40", OTHER_HOST),  # another host's refusals are not counted
        ],
        "alert_rule_test": [
            quiet("9m", "PrometheusExternalAccessAuthFailures"),  # for_duration (10m) not over
            fires("20m", "PrometheusExternalAccessAuthFailures", alert(
                {"severity": "critical", "host": HOST},
                summary="Many refused requests to the external Prometheus endpoint " + HOST,
                description="3 requests/s answered 401 or 403 (threshold 1.0): someone is guessing credentials, "
                            "or a client has an old password or a new source address.")),
            quiet("20m", "PrometheusExternalAccessErrors"),
        ],
    },
    "external-access-auth-failures-below-threshold": {
        "input_series": [
            ingress("401", "0+30x40"),  # 0.5/s
            ingress("403", "0+24x40"),  # 0.4/s: 0.9/s together
            ingress("200", "0+600x40"),
            ingress("401", "0+6000x40", OTHER_HOST),
        ],
        "alert_rule_test": [quiet("20m", "PrometheusExternalAccessAuthFailures"),
                            quiet("40m", "PrometheusExternalAccessAuthFailures")],
    },
    "external-access-errors-above-ratio": {
        "input_series": [
            ingress("200", "0+540x40"),  # 9/s
            ingress("502", "0+60x40"),  # 1/s: 10 %
            ingress("200", "0+60000x40", OTHER_HOST),  # another host's requests do not dilute the ratio
        ],
        "alert_rule_test": [
            quiet("9m", "PrometheusExternalAccessErrors"),
            fires("20m", "PrometheusExternalAccessErrors", alert(
                {"severity": "critical", "host": HOST},
                summary="The external Prometheus endpoint {0} answers 5xx".format(HOST),
                description="10% of the requests end in 5xx (threshold 0.05).")),
        ],
    },
    "external-access-errors-below-ratio": {
        "input_series": [
            ingress("200", "0+5940x40"),  # 99/s
            ingress("503", "0+60x40"),  # 1/s: 1 %
            ingress("503", "0+600x40", OTHER_HOST),  # another host's 5xx are not counted
        ],
        "alert_rule_test": [quiet("20m", "PrometheusExternalAccessErrors"),
                            quiet("40m", "PrometheusExternalAccessErrors")],
    },
    "fluent-bit-output-errors": {
        "input_series": [
            fluent_bit("fluentbit_output_errors_total", "es.0", "0+120x40"),  # 2 errors/s
            fluent_bit("fluentbit_output_errors_total", "forward.1", "5x40"),  # no new errors
            fluent_bit("fluentbit_output_errors_total", "es.0", "0+600x40", OTHER_FLUENT_BIT),  # not this job
        ],
        "alert_rule_test": [
            quiet("10m", "FluentBitOutputErrors"),  # for_duration (15m) not over
            fires("20m", "FluentBitOutputErrors", alert(
                dict(ES_OUTPUT, severity="info"), summary="Fluent Bit output es.0 on fluent-bit-x7k2p fails",
                description="The output returns errors (2/s); records are retried and may be dropped.")),
        ],
    },
    "fluent-bit-output-no-errors": {
        "input_series": [fluent_bit("fluentbit_output_errors_total", "es.0", "7x40")],
        "alert_rule_test": [quiet("20m", "FluentBitOutputErrors"), quiet("40m", "FluentBitOutputErrors")],
    },
    "fluent-bit-output-retries-failed": {
        "input_series": [
            fluent_bit("fluentbit_output_retries_failed_total", "es.0", "0x10 3x30"),  # 3 chunks dropped at 11m
            fluent_bit("fluentbit_output_retries_failed_total", "forward.1", "2x40"),
        ],
        "alert_rule_test": [
            quiet("5m", "FluentBitOutputRetriesFailed"),
            fires("15m", "FluentBitOutputRetriesFailed", alert(
                dict(ES_OUTPUT, severity="info"), summary="Fluent Bit output es.0 on fluent-bit-x7k2p dropped records",
                description="Retries ran out for 3 chunks in 15 minutes: those logs are lost.")),
            quiet("30m", "FluentBitOutputRetriesFailed"),  # no increase in the last 15 minutes
        ],
    },
    "fluent-bit-down": {
        "input_series": [
            series("up", FLUENT_BIT_TARGET, "0x20"),
            series("up", dict(FLUENT_BIT_TARGET, pod="fluent-bit-m4n6v", instance="10.0.0.7:2020"), "1x20"),
            series("up", OTHER_FLUENT_BIT, "0x20"),  # not this job
        ],
        "alert_rule_test": [
            quiet("3m", "FluentBitDown"),  # 5m not over
            fires("10m", "FluentBitDown", alert(
                dict(FLUENT_BIT_TARGET, severity="info"), summary="Prometheus cannot scrape Fluent Bit on fluent-bit-x7k2p")),
        ],
    },
    "fluent-bit-up": {
        "input_series": [series("up", FLUENT_BIT_TARGET, "1x20")],
        "alert_rule_test": [quiet("10m", "FluentBitDown"), quiet("20m", "FluentBitDown"),
                            quiet("20m", "FluentBitNotScraped")],
    },
    "fluent-bit-no-target": {
        # Only another job's Fluent Bit is scraped: this job has no target at all.
        "input_series": [series("up", OTHER_FLUENT_BIT, "1x30")],
        "alert_rule_test": [
            quiet("10m", "FluentBitNotScraped"),  # 15m not over
            quiet("20m", "FluentBitDown"),
            fires("20m", "FluentBitNotScraped", alert({"job": FLUENT_BIT_JOB, "severity": "info"})),
        ],
    },
}


def complete_annotations(case, rules):
    """Fill in the annotations without a template from the rule; one with a template must be given rendered."""
    case = copy.deepcopy(case)
    by_alert = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            by_alert.setdefault(rule["alert"], []).append(rule["annotations"])
    for check in case["alert_rule_test"]:
        for expected in check["exp_alerts"]:
            annotations = expected["exp_annotations"]
            for key in set(k for a in by_alert[check["alertname"]] for k in a):
                texts = set(a.get(key) for a in by_alert[check["alertname"]])
                if key in annotations:
                    continue
                assert len(texts) == 1, "{0} of {1} differs between its rules: give it".format(key, check["alertname"])
                text = texts.pop()
                assert "{{" not in text, "{0} of {1} is a template: give it rendered".format(key, check["alertname"])
                annotations[key] = text
    return case


@pytest.mark.parametrize("name", sorted(CASES))
def test_alert_rule_unit_tests(tmp_path, name):
    rules = rule_file()
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    case = dict(complete_annotations(CASES[name], rules), name=name, interval="1m")
    unit_tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [case]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit_tests, sort_keys=False, width=1000))
    ok, output = promtool(tmp_path, "test", "rules", "test.yml")
    assert ok, output


def test_every_alert_has_a_firing_and_a_quiet_case():
    """A new alert of the builder without unit tests fails here."""
    firing, silent = set(), set()
    for case in CASES.values():
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else silent).add(check["alertname"])
    names = alert_names(rule_file())
    assert names == ["FluentBitDown", "FluentBitNotScraped", "FluentBitOutputErrors", "FluentBitOutputRetriesFailed",
                     "PrometheusExternalAccessAuthFailures", "PrometheusExternalAccessErrors",
                     "PushgatewayGroupStale", "PushgatewayPushFailed"]
    assert [n for n in names if n not in firing] == [], "alerts without a case where they fire"
    assert [n for n in names if n not in silent] == [], "alerts without a case where they stay quiet"
    assert set(names) >= firing | silent, "cases for alerts the builder no longer makes"


def test_promtool_accepts_every_rule_group_the_example_fleet_renders(tmp_path, example_fleet):
    """What `make run` writes, not only what the builder returns: every rendered rule object of every cluster."""
    checked = {}
    for cluster, directory in example_fleet.items():
        manifests = [yaml.safe_load(path.read_text()) for path in sorted(directory.glob("monitors_and_alerts/*.yaml"))
                     if path.name != "kustomization.yaml"]
        rules = monitors_and_alerts.rule_groups(manifests)
        if rules["groups"]:
            ok, output = check_rules(tmp_path, rules, lint="all")
            assert ok, "{0}: {1}".format(cluster, output)
            checked[cluster] = [group["name"] for group in rules["groups"]]
    assert checked == {
        "deckhouse-prod": ["k8s-monitoring.pushgateway"],
        "kps-staging": ["k8s-monitoring.external-access", "k8s-monitoring.fluent-bit", "k8s-monitoring.pushgateway"],
        "ocne-lab": ["k8s-monitoring.fluent-bit", "k8s-monitoring.pushgateway"],
    }
