"""Bad-input corpus, generated from every role's meta/argument_specs.yml.

For each role option the generator makes malformed values from the option's spec
(wrong type, invalid choice, a missing required sub-option) and from what the name
says it holds (namespace, host, CIDR, port, label key, username, URL, ...). All
cases of a role run in one ansible-playbook, each in its own block/rescue, in
*apply* mode with the Kubernetes API pointed at a loopback listener that counts
connections. Every case must fail, name the option, show no traceback or
MODULE FAILURE, contact no API and write no file.
"""

import json
import re
import socket
import threading

import pytest
import yaml

from tests import figures
from tests.playbook import REPO, run_playbook, site_roles

ROLES = site_roles()
# Options whose values are free text or paths: no value of the right type is "malformed".
FREE_TEXT = ("description", "realm", "help", "message", "image", "annotations", "password_reference",
             "resources", "tolerations", "node_selector", "extra", "_file", "_dir", "_path", "scrape_interval",
             "scrape_timeout", "match", "version", "datasource_name", "storage_class", "size")


class ConnectionCounter:
    """A TCP listener on 127.0.0.1 that accepts and counts connections, then closes them."""

    def __init__(self):
        self.count = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _address = self.sock.accept()
            except socket.timeout:
                continue
            self.count += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def load_spec(role):
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["options"]


def example_host(role):
    """An example cluster whose group_vars switch ``role`` on."""
    # Plain kube-prometheus-stack first: it uses the most options (presets such as
    # Deckhouse's ignore some, and an ignored option cannot be rejected).
    hosts = [("platform_kube_prometheus_stack", "kps-staging"), ("platform_deckhouse", "deckhouse-prod"),
             ("platform_ocne", "ocne-lab")]
    for group, host in hosts:
        path = REPO / "inventory" / "example" / "group_vars" / group / (role + ".yml")
        if path.exists() and (yaml.safe_load(path.read_text()) or {}).get(role + "_enabled"):
            return host
    pytest.fail("no example cluster enables {0}".format(role))


def kind_values(name, spec):
    """Malformed values suggested by what an option (or sub-option) name holds."""
    leaf = name.rsplit(".", 1)[-1]
    # Free text with a few hostile forms: a '$' nginx reads as a variable, a literal
    # password where a reference belongs, a selector Prometheus refuses.
    hostile_text = {"auth_realm": ["Pay $5"], "password_reference": ["hunter2-literal"],
                    "federation_match": [["{job=x}"], ['{job=~".*"}']]}
    values = [v for suffix, vs in hostile_text.items() if leaf.endswith(suffix) for v in vs]
    if any(word in leaf for word in FREE_TEXT) or leaf.endswith("_enabled"):
        return values
    if "namespace" in leaf and spec.get("type") == "list":
        values += [["Bad_Namespace"]]
    elif "namespace" in leaf:
        values += ["Bad_Namespace", "-leading-dash", "x" * 64]
    elif leaf.endswith("service_account") or leaf.endswith("_name") or leaf == "name":
        values += ["Bad_Name!", "-leading-dash"]
    if leaf.endswith("host") or leaf.endswith("hostname"):
        values += ["not a host", "http://prometheus.example.com"]
    if "cidr" in leaf or "allowlist" in leaf or "source_range" in leaf or "ip_block" in leaf:
        values += ([["10.0.0.300/8"], ["10.0.0.1/8"], ["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1", "::/0"]]
                   if spec.get("type") == "list" else ["10.0.0.300/8"])
    if leaf.endswith("extra_paths"):
        values += [["/api/v1/admin/tsdb/snapshot"], ["/-/quit"], ["/api/v1/query/../admin/tsdb/snapshot"]]
    if leaf.endswith("port") or leaf.endswith("_port_number"):
        values += [0, 70000]
    if (leaf.endswith("timeout") or leaf.endswith("org_id")) and spec.get("type") == "int":
        values += [-1, 0]
    if leaf.endswith("ports") and spec.get("type") == "list":
        values += [[70000], ["not_a port"]]
    if ("label" in leaf or "selector" in leaf) and spec.get("type") == "dict":
        values += [{"bad key!": "x"}, {"app": "bad value!"}]
    if leaf.endswith("username"):
        values += ["a:b", "", "#admin", "ops\nroot"]
    if leaf.endswith("url"):
        values += ["not a url", "ftp://127.0.0.1/"]
    if leaf == "users" and spec.get("type") == "list":
        values += [[], [{"username": "a:b", "password": "correct-horse-battery-staple-42"}]]
    return values


def type_values(spec):
    kind = spec.get("type", "str")
    # A mapping for a string or path: ansible-core would turn it into the text "{'x': 1}";
    # an integer or a list for a mapping: ansible-core's own validation crashes or names no option.
    return {"int": ["not-a-number"], "bool": ["maybe"], "list": [{"not": "a list"}], "dict": ["not-a-dict", 5, [1]],
            "float": ["not-a-number"], "str": [{"x": 1}], "path": [{"x": 1}]}.get(kind, [])


# Paths the corpus points into its own directory with extra vars, which outrank a case's
# value; test_check_variable_types.py covers their shapes.
REDIRECTED = {"prometheus_external_access_password_dir": "credentials",
              "prometheus_external_access_grafana_datasource_file": "grafana.yaml",
              "prometheus_external_access_federation_file": "federation.yaml"}


def cases_for(role, options):
    cases = []
    for option, spec in sorted(options.items()):
        if (option.endswith("_enabled") and option == role + "_enabled") or option in REDIRECTED:
            continue
        expected = option
        for value in type_values(spec):
            cases.append((option, "wrong type", value, expected))
        if spec.get("choices"):
            cases.append((option, "invalid choice", "not-a-choice-value", expected))
        for value in kind_values(option, spec):
            cases.append((option, "invalid value", value, expected))
        if spec.get("type") == "list" and spec.get("elements") == "dict" and spec.get("options"):
            sub = spec["options"]
            good = dict((k, example_value(k, s)) for k, s in sub.items() if s.get("required"))
            for required in [k for k, s in sub.items() if s.get("required")]:
                element = dict(good)
                del element[required]
                cases.append((option, "missing {0}".format(required), [element], required))
            for key, sub_spec in sorted(sub.items()):
                for value in type_values(sub_spec) + kind_values(key, sub_spec):
                    element = dict(good, **{key: value})
                    cases.append((option, "{0}: bad value".format(key), [element], key))
    return cases


def example_value(name, spec):
    if spec.get("choices"):
        return spec["choices"][0]
    kind = spec.get("type", "str")
    if kind == "int":
        return 9090
    if kind == "bool":
        return True
    if kind == "list":
        return []
    if kind == "dict":
        return {}
    if "password" in name:
        return "correct-horse-battery-staple-42"
    return "example"


def corpus_playbook(role, host, cases):
    """One block per case; its rescue is a static debug task that marks the case as failed.

    (Recording results with set_fact costs ~0.5 s a case; reading the JSON callback's
    output afterwards costs nothing.)
    """
    tasks = []
    for index, (option, what, _unused1, _unused2) in enumerate(cases):
        tasks.append({
            "name": "case {0}: {1} {2}".format(index, option, what),
            "block": [{"name": "Run the role", "ansible.builtin.include_role": {"name": "k8s_monitoring.prometheus." + role},
                       "vars": {option: cases[index][2]}}],
            "rescue": [{"name": "rescued case {0}".format(index), "ansible.builtin.debug": {"msg": "rescued"}}],
        })
    return [{"name": "Bad-input corpus for " + role, "hosts": host, "connection": "local", "gather_facts": False,
             "tasks": tasks}]


def failures_by_case(json_output, host):
    """{case index: the failed task result that its rescue caught}."""
    caught = {}
    last_failure = None
    for play in json.loads(json_output)["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get(host, {})
            name = task["task"]["name"]
            if name.startswith("rescued case "):
                caught[int(name.split()[-1])] = last_failure or {}
                last_failure = None
            elif result.get("failed"):
                last_failure = result
    return caught


@pytest.mark.parametrize("role", ROLES)
def test_every_malformed_input_fails_cleanly_before_any_api_call(role, tmp_path):
    options = load_spec(role)
    host = example_host(role)
    cases = cases_for(role, options)
    assert len(cases) >= 20, "too few cases generated for {0}".format(role)
    playbook = tmp_path / "corpus.yml"
    playbook.write_text(yaml.safe_dump(corpus_playbook(role, host, cases), sort_keys=False))
    counter = ConnectionCounter()
    writes = tmp_path / "writes"
    try:
        extra_vars = {"k8s_monitoring_mode": "apply", "k8s_monitoring_kubeconfig": None}
        extra_vars.update((name, str(writes / path)) for name, path in REDIRECTED.items())
        env = {"K8S_AUTH_HOST": "https://127.0.0.1:{0}".format(counter.port), "K8S_AUTH_API_KEY": "corpus",
               "HOME": str(tmp_path), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
        output = run_playbook(playbook, "-i", str(REPO / "inventory" / "example"), extra_vars=extra_vars, env=env,
                              timeout=900).stdout
    finally:
        counter.close()
    json_start = re.search(r"^\{\s*$", output, re.MULTILINE)  # warnings may precede the JSON document
    assert json_start, output[-3000:]
    caught = failures_by_case(output[json_start.start():], host)
    problems = []
    for index, (option, what, value, expected) in enumerate(cases):
        label = "{0} ({1}: {2!r})".format(option, what, value)
        result = caught.get(index)
        message = str((result or {}).get("msg", ""))
        if result is None:
            problems.append("accepted: " + label)
        elif "Traceback" in str(result.get("exception", "")) + str(result.get("module_stderr", "")) \
                or "MODULE FAILURE" in message:
            problems.append("crashed: {0}: {1}".format(label, message[:200]))
        elif expected not in message:
            problems.append("message does not name {0}: {1}: {2}".format(expected, label, message[:300]))
    figures.record("{0}: {1} malformed inputs tried, {2} problems".format(role, len(cases), len(problems)))
    assert not problems, "\n".join(problems)
    assert counter.count == 0, "a malformed input reached the Kubernetes API"
    assert not writes.exists() or not any(p.is_file() for p in writes.rglob("*")), "a malformed input wrote a file"
