"""Bad-input corpus for every module in plugins/modules/, generated from its argument spec.

Each module gets one known-good argument set (below). The generator derives malformed
cases from the module's own argument spec (wrong types, missing required options and
sub-options, invalid choices) and from what an option holds (names, namespaces, CIDRs,
ports, label keys and values, URLs, usernames; the role corpus's ``kind_values``
plus module-specific ones). Every case runs the way Ansible runs a module -- a Python
process reading ``{"ANSIBLE_MODULE_ARGS": ...}`` from a file -- with every URL and
Kubernetes host pointed at a loopback listener that counts connections.

Every case must fail with ``failed: true`` and a ``msg`` naming the option, with no
traceback / MODULE FAILURE / exception, no connection and no file written.
"""

import concurrent.futures
import copy
import importlib
import json
import subprocess
import sys
import sysconfig

import pytest

from tests import figures
from tests.integration.test_bad_input_corpus import ConnectionCounter, FREE_TEXT, kind_values
from tests.playbook import REPO

PACKAGE = "ansible_collections.k8s_monitoring.prometheus.plugins.modules."
# check_variable_types needs the play's variables, so its module side only refuses to run;
# its checks are tested through the roles (test_check_variable_types.py, the bad-input corpus).
ACTION_ONLY = ("check_variable_types",)
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem not in ("__init__",) + ACTION_ONLY)
# ansible_collections is a namespace package: the checkout (through .collections) and
# the venv's bundled collections (kubernetes.core) both contribute to it.
PYTHONPATH = "{0}:{1}".format(REPO / ".collections", sysconfig.get_paths()["purelib"])
# Options whose value is free text, a path or a Kubernetes client setting passed through verbatim.
MODULE_FREE_TEXT = FREE_TEXT + ("context", "impersonate_user", "proxy", "no_proxy", "user_agent", "basic_auth",
                                "password", "api_key", "kubeconfig", "content", "query", "time", "bearer_token",
                                "expected_value", "metrics_text", "value", "current_content", "current_secret",
                                "password_hash", "cert", "key", "ca_path", "reference", "source", "app_root",
                                "interval", "wanted", "manifests", "live_", "workloads", "components", "clients",
                                "prometheus_resources", "pushers", "ui_sources", "proxy_ssl", "federation_match",
                                "read_only_extra_paths", "auth_realm", "instances", "tolerations", "dest",
                                "variable_name")
KUBE_CLIENT_MODULES = ("cluster_preflight", "prune_owned", "server_side_apply")
HTTP_MODULES = ("pushgateway_metrics", "prometheus_query")
# Prometheus label names (metrics, grouping keys): [a-zA-Z_][a-zA-Z0-9_]*, "__" prefix reserved.
BAD_PROMETHEUS_LABELS = [{"bad label!": "x"}, {"0starts_with_digit": "x"}, {"__reserved": "x"}]


def good_args(module, listener, tmp_path):
    """One argument set per module that the module accepts (network ones reach ``listener``)."""
    api = {"host": "https://127.0.0.1:{0}".format(listener), "api_key": "corpus-token", "validate_certs": False}
    http = "http://127.0.0.1:{0}".format(listener)
    return copy.deepcopy({
        "cluster_preflight": dict(api, required_apis=[{"api_version": "monitoring.coreos.com/v1",
                                                       "kind": "PodMonitor"}],
                                  objects=[{"apiVersion": "v1", "kind": "Service",
                                            "metadata": {"name": "web", "namespace": "monitoring"}}],
                                  prune_kinds=[{"api_version": "v1", "kind": "Service"}],
                                  prune_namespaces=["monitoring"]),
        "server_side_apply": dict(api, definitions=[{"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "example", "namespace": "monitoring"}}]),
        "prune_owned": dict(api, component="network_policies", namespaces=["monitoring"],
                            kinds=[{"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"}]),
        "controller_files": {"files": [{"path": str(tmp_path / "writes" / "federation.yaml"), "content": "a: 1\n"}]},
        "render_manifests": {"dest": str(tmp_path / "writes" / "rendered"), "component": "istio_metrics",
                             "manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "example", "namespace": "monitoring"},
                                            "data": {"a": "b"}}]},
        "htpasswd_secret": {"name": "basic-auth", "namespace": "monitoring", "cost": 4,
                            "users": [{"username": "grafana", "password": "correct-horse-battery-staple-42"}]},
        "istio_metrics_build": {"namespace": "monitoring", "release_label": "kube-prometheus-stack",
                                "clients": [{"namespace": "monitoring", "service_account": "grafana"}],
                                "scrape_namespaces": ["shop"], "ports": [9090], "monitor_labels": {"team": "platform"},
                                "namespace_labels": {"istio-injection": "enabled"}},
        "network_policies_build": {"preset": "kube-prometheus-stack", "namespace": "monitoring",
                                   "components": {"default_deny": True, "pushgateway": True, "pushers": True},
                                   "api_server_cidrs": ["10.0.0.0/24"],
                                   "pushers": [{"namespace": "batch", "pod_labels": {"app": "nightly-report"}}]},
        "prometheus_external_access_build": {"platform": "generic", "mode": "render", "host": "prometheus.example.com",
                                             "namespace": "monitoring", "service_name": "prometheus",
                                             "service_port": 9090,
                                             "allowlist": ["203.0.113.10/32"], "ingress_class": "nginx",
                                             "tls_secret_name": "prometheus-tls",
                                             "federation_labels": {"cluster": "prod"}},
        "pushgateway_build": {"namespace": "monitoring", "instances": [{"name": "batch"}],
                              "service_monitor_labels": {"release": "kps"}, "node_selector": {"role": "infra"},
                              "basic_auth_users": [{"username": "pusher", "password_hash": "$2y$05$" + "a" * 53}],
                              "scrape_basic_auth_secret": "pushgateway-scrape"},
        "pushgateway_metrics": {"url": http, "job": "nightly", "grouping": {"instance": "batch-1"},
                                "metrics": [{"name": "job_duration_seconds", "value": 1.5,
                                             "labels": {"stage": "load"}}],
                                "retries": 0, "timeout": 2},
        "prometheus_query": {"url": http, "query": "up", "retries": 0, "timeout": 2},
        "monitors_and_alerts_build": {"monitor_labels": {"release": "kps"},
                                      "pushgateway_alerts": {"enabled": True, "stale_after_by_job": {"a": "2h"}},
                                      "external_access_alerts": {"enabled": True, "host": "p.example.com"}},
    }[module])


def argument_spec(module):
    loaded = importlib.import_module(PACKAGE + module)
    return loaded.argument_spec() if hasattr(loaded, "argument_spec") else loaded.ARGUMENT_SPEC


def free_text(option):
    return any(word in option for word in MODULE_FREE_TEXT) or option.startswith("allow_")


def wrong_types(spec):
    kind = spec.get("type", "str")
    # One value per way to be wrong; ints also given to dicts (ansible-core crashes on those with sub-options).
    values = {"int": ["not-a-number", 1.5], "bool": ["maybe"], "list": [{"not": "a list"}],
              "dict": ["not-a-dict", 5], "float": ["not-a-number"]}.get(kind, [])
    if kind == "list" and spec.get("elements") == "int":
        values.append(["x"])
    if kind == "list" and spec.get("elements") == "dict":
        values.append(["not-a-dict"])
    return values


def module_kind_values(module, option, spec):
    """Malformed values by what ``option`` holds, for a module (where names mean slightly different things)."""
    if option in ("host", "url") and module in KUBE_CLIENT_MODULES + HTTP_MODULES:
        return ["not a url", "ftp://127.0.0.1/", "http://", "127.0.0.1:9091"]
    if option == "url_username":
        return ["a:b"]
    if option == "username" and module in KUBE_CLIENT_MODULES:
        return []  # a kubernetes client setting passed through verbatim
    if option == "grouping":
        return BAD_PROMETHEUS_LABELS + [{"job": "x"}]
    values = [] if free_text(option) else kind_values(option, spec)
    if option in ("component",):
        values += ["Not A Component!", "", "../escape"]
    if option in ("job",):
        values += [""]
    if option in ("namespaces", "scrape_namespaces"):
        values += [["-dash"]]
    if option in ("ports",) and spec.get("elements") == "int":
        values += [[0], [70000]]
    if option == "service_port":
        values += [0, 70000, "Bad_Port_Name"]
    if option in ("release_label", "trust_domain"):
        values += ["bad value!"]
    if option in ("min_password_length", "cost", "retries"):
        values += [-1]
    if option in ("timeout", "retry_delay", "retry_max_delay", "wait_interval", "wait_timeout"):
        values += [-1.0]
    if option == "metrics":
        values += [[{"name": "bad name!", "value": 1}], [{"name": "ok", "value": "NaNope"}],
                   [{"name": "ok", "value": 1, "labels": {"bad label!": "x"}}]]
    if option == "mode" and module == "controller_files":
        values += ["rwx", "99999"]
    return values


def nested_values(module, option, key, sub_spec):
    """Malformed values of sub-option ``key`` of ``option``."""
    values = wrong_types(sub_spec)
    if module == "pushgateway_metrics" and key == "labels":
        return values + BAD_PROMETHEUS_LABELS
    if module == "controller_files":
        return values + {"mode": ["rwx", "99999"]}.get(key, [])
    values += [] if free_text(key) else kind_values(key, sub_spec)
    values += {"api_version": ["not/a/valid/version", ""], "kind": ["not a kind", ""],
               "username": ["bad user\n"]}.get(key, [])
    if key == "password" and option == "users":
        values += ["short"]
    return values


def nested_cases(module, option, spec, good_value):
    """Cases inside list-of-dict or dict options that declare sub-options."""
    sub = spec.get("options") or {}
    cases = []
    if not sub:
        return cases
    base = (good_value[0] if isinstance(good_value, list) and good_value else good_value) or {}
    base = dict(base)
    for key, sub_spec in sub.items():
        if sub_spec.get("required") and key not in base:
            base[key] = "example" if sub_spec.get("type", "str") == "str" else 1

    def wrap(element):
        return [element] if spec.get("type") == "list" else element

    for key, sub_spec in sorted(sub.items()):
        if sub_spec.get("required"):
            element = dict(base)
            del element[key]
            cases.append(("missing {0}".format(key), wrap(element), key))
        if sub_spec.get("choices"):
            cases.append(("{0}: invalid choice".format(key), wrap(dict(base, **{key: "not-a-choice"})), key))
        for value in nested_values(module, option, key, sub_spec):
            cases.append(("{0}: bad value {1!r}".format(key, value), wrap(dict(base, **{key: value})), key))
    return cases


def cases_for(module, good):
    spec = argument_spec(module)
    cases = []
    for option, option_spec in sorted(spec.items()):
        if option_spec.get("required"):
            args = dict(good)
            args.pop(option, None)
            cases.append((option, "missing", args, option))
        for value in wrong_types(option_spec):
            cases.append((option, "wrong type {0!r}".format(value), dict(good, **{option: value}), option))
        if option_spec.get("choices"):
            cases.append((option, "invalid choice", dict(good, **{option: "not-a-choice-value"}), option))
        for value in module_kind_values(module, option, option_spec):
            cases.append((option, "invalid value {0!r}".format(value), dict(good, **{option: value}), option))
        for what, value, expected in nested_cases(module, option, option_spec, good.get(option)):
            cases.append((option, what, dict(good, **{option: value}), expected))
    cases.append(("(unknown)", "unsupported option", dict(good, no_such_option=1), "no_such_option"))
    return cases


def run_module(module, args, workdir, index):
    path = workdir / "args-{0}-{1}.json".format(module, index)
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_tmpdir=str(workdir))}))
    completed = subprocess.run([sys.executable, "-m", PACKAGE + module, str(path)], cwd=str(workdir),
                               env={"PYTHONPATH": PYTHONPATH, "HOME": str(workdir), "PATH": "/usr/bin:/bin",
                                    "LANG": "C.UTF-8"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60,
                               check=False)
    try:
        return json.loads(completed.stdout), completed.stderr
    except ValueError:
        return None, "stdout: {0}\nstderr: {1}".format(completed.stdout[-500:], completed.stderr[-1500:])


def problem(label, result, stderr, expected):
    if result is None:
        return "crashed (no JSON): {0}: {1}".format(label, stderr)
    message = str(result.get("msg", ""))
    if not result.get("failed"):
        return "accepted: {0}".format(label)
    if "exception" in result or "Traceback" in stderr or "MODULE FAILURE" in message:
        return "crashed: {0}: {1} {2}".format(label, message[:200], str(result.get("exception", ""))[-300:])
    if expected not in message:
        return "message does not name {0}: {1}: {2}".format(expected, label, message[:300])
    return None


# Known findings: (module, option, case) -> what happens. What is left are findings
# in ansible-core's own argument validation, which runs before any module code and
# cannot be changed from the collection. Each runs in test_known_finding, marked
# xfail(strict=True): the day one is fixed, its entry here must go (and the case
# joins the main test).
UPSTREAM_DICT = ("ansible-core 2.21 argument validation: a list of dicts given a string element, or a dict with "
                 "sub-options given a string or list, fails with 'dictionary requested, could not parse JSON or "
                 "key=value', which does not name the option")
UPSTREAM_DICT_CRASH = ("ansible-core 2.21 argument validation crashes (TypeError: argument of type 'int' is not "
                       "iterable, in parameters.set_fallbacks) when a dict option with sub-options gets an int: "
                       "MODULE FAILURE with a traceback")
KNOWN_FINDINGS = {
    ("cluster_preflight", "proxy_headers", "wrong type 'not-a-dict'"): UPSTREAM_DICT,
    ("cluster_preflight", "proxy_headers", "wrong type 5"): UPSTREAM_DICT_CRASH,
    ("cluster_preflight", "required_apis", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("cluster_preflight", "prune_kinds", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("server_side_apply", "proxy_headers", "wrong type 'not-a-dict'"): UPSTREAM_DICT,
    ("server_side_apply", "proxy_headers", "wrong type 5"): UPSTREAM_DICT_CRASH,
    ("controller_files", "files", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("htpasswd_secret", "users", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("prune_owned", "kinds", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("prune_owned", "proxy_headers", "wrong type 'not-a-dict'"): UPSTREAM_DICT,
    ("prune_owned", "proxy_headers", "wrong type 5"): UPSTREAM_DICT_CRASH,
    ("pushgateway_build", "basic_auth_users", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("pushgateway_build", "instances", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
    ("pushgateway_build", "instances", "persistence: bad value 'not-a-dict'"): UPSTREAM_DICT,
    ("pushgateway_build", "instances", "persistence: bad value 5"): UPSTREAM_DICT_CRASH,
    ("pushgateway_build", "persistence", "wrong type 'not-a-dict'"): UPSTREAM_DICT,
    ("pushgateway_build", "persistence", "wrong type 5"): UPSTREAM_DICT_CRASH,
    ("pushgateway_metrics", "metrics", "wrong type ['not-a-dict']"): UPSTREAM_DICT,
}
KNOWN_FINDINGS.update(dict(
    (("monitors_and_alerts_build", option, case), reason)
    for option in ("fluent_bit", "ingress_controller", "pushgateway_alerts", "external_access_alerts",
                   "fluent_bit_alerts")
    for case, reason in (("wrong type 'not-a-dict'", UPSTREAM_DICT), ("wrong type 5", UPSTREAM_DICT_CRASH))))


def run_corpus(module, tmp_path, select):
    counter = ConnectionCounter()
    try:
        good = good_args(module, counter.port, tmp_path)
        cases = [c for c in cases_for(module, good) if select((module, c[0], c[1]))]
        workdir = tmp_path / "run"
        workdir.mkdir()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda item: run_module(module, item[1][2], workdir, item[0]), enumerate(cases)))
    finally:
        counter.close()
    problems = []
    for (option, what, args, expected), (result, stderr) in zip(cases, results):
        found = problem("{0} ({1})".format(option, what), result, stderr, expected)
        if found:
            problems.append(found)
    writes = tmp_path / "writes"
    written = [str(p) for p in writes.rglob("*") if p.is_file()] if writes.exists() else []
    return cases, problems, counter.count, written


@pytest.mark.parametrize("module", MODULES)
def test_good_arguments_are_accepted_or_reach_the_listener(module, tmp_path):
    """The baseline is valid: builders succeed with it, network modules try to connect (so the counter works)."""
    counter = ConnectionCounter()
    try:
        workdir = tmp_path / "run"
        workdir.mkdir()
        result, stderr = run_module(module, good_args(module, counter.port, tmp_path), workdir, 0)
    finally:
        counter.close()
    assert result is not None, stderr
    if module in KUBE_CLIENT_MODULES + HTTP_MODULES:
        assert counter.count >= 1, result
    else:
        assert not result.get("failed"), result
        assert counter.count == 0


@pytest.mark.parametrize("module", MODULES)
def test_every_malformed_module_input_fails_cleanly(module, tmp_path):
    cases, problems, connections, written = run_corpus(module, tmp_path, lambda key: key not in KNOWN_FINDINGS)
    known = sum(1 for key in KNOWN_FINDINGS if key[0] == module)
    print("{0}: {1} malformed inputs tried (+{2} known findings run xfail), {3} problems, {4} connections, "
          "{5} files written".format(module, len(cases), known, len(problems), connections, len(written)))
    assert len(cases) >= 5, "too few cases generated for {0}".format(module)
    assert not problems, "\n".join(problems)
    assert connections == 0, "a malformed input reached the loopback listener"
    assert not written, "a malformed input wrote files: {0}".format(written)


@pytest.fixture(scope="module")
def finding_outcomes(tmp_path_factory):
    """Run every known finding's case once (two at a time): {key: (problems, connections, written)}."""
    def one(indexed):
        index, key = indexed
        return key, run_corpus(key[0], tmp_path_factory.mktemp("finding{0}".format(index)), lambda k: k == key)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, enumerate(sorted(KNOWN_FINDINGS))))


FINDING_PARAMS = [pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=reason), id="{0}.{1}: {2}".format(*key))
                  for key, reason in sorted(KNOWN_FINDINGS.items())]


@pytest.mark.parametrize("finding", FINDING_PARAMS)
def test_known_finding(finding, finding_outcomes):
    cases, problems, connections, written = finding_outcomes[finding]
    assert not problems and connections == 0 and not written, "\n".join(problems)


def test_every_known_finding_is_still_generated(finding_outcomes):
    """Outside the xfail: a finding whose case the generator no longer makes must be removed, not pass silently."""
    assert [key for key, outcome in finding_outcomes.items() if len(outcome[0]) != 1] == []


def test_corpus_size(tmp_path):
    total = sum(len(cases_for(module, good_args(module, 1, tmp_path))) for module in MODULES)
    figures.record("module input corpus: {0} malformed inputs over {1} modules, {2} of them known findings (xfail)".format(
        total, len(MODULES), len(KNOWN_FINDINGS)))
    assert total >= 300
