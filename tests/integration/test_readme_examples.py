"""Every example in the README and the role READMEs runs, the way a user would run it.

The fenced code blocks are read from the Markdown files themselves:

- a playbook (``- hosts: ...``) runs with an inventory of one cluster in ``k8s_clusters``,
  in render mode;
- variables run through the role they belong to (the prefix of their names), in
  render mode; one block may hold several examples, each after a blank line and its
  own comment. Paths in ``*_file`` / ``*_dir`` variables are moved under a temporary
  directory, so an example never writes to ``/srv``;
- a task list runs in a play on localhost with its ``url`` options pointed at a real
  Pushgateway and a real Prometheus that scrapes it;
- shell blocks: every ``ansible-playbook`` command runs as written (``my-inventory``
  is the example inventory), render-mode ones with a temporary render directory,
  apply-mode ones against a control plane of their own; ``make run`` runs with a
  temporary RENDER_DIR. ``make test`` is the command that runs this test.
"""

import re
import shlex
import subprocess

import pytest
import yaml

from tests import control_plane as cp
from tests.integration.conftest import control_plane_crds
from tests.integration.test_pushgateway_metrics import run_tasks
from tests.playbook import REPO, ansible_env, run_playbook, site_roles

READMES = ["README.md"] + sorted(str(p.relative_to(REPO)) for p in (REPO / "roles").glob("*/README.md"))
FENCE = re.compile(r"^```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
ROLES = site_roles()


def blocks(lang):
    """[(id, text)] of every fenced block in ``lang``, one entry per example."""
    found = []
    for readme in READMES:
        for number, match in enumerate(FENCE.finditer((REPO / readme).read_text())):
            if match.group("lang") != lang:
                continue
            # Several examples in one block: each starts after a blank line with its own comment.
            parts = re.split(r"\n\n(?=#)", match.group("body")) if lang == "yaml" else [match.group("body")]
            for index, part in enumerate(parts):
                found.append(("{0}#{1}.{2}".format(readme, number, index), part))
    return found


def examples(kind):
    return [(name, text) for name, text in blocks("yaml") if classify(yaml.safe_load(text)) == kind]


def classify(data):
    if isinstance(data, dict):
        return "variables"
    if isinstance(data, list) and all("hosts" in item for item in data):
        return "playbook"
    return "tasks"


def cluster_inventory(tmp_path, variables=None):
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    host.update(variables or {})
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"k8s_clusters": {"hosts": {"cluster": host}}}}}))
    return path


def render_vars(tmp_path):
    return {"k8s_monitoring_mode": "render", "k8s_monitoring_render_dir": str(tmp_path / "rendered"),
            "prometheus_external_access_password_dir": str(tmp_path / "credentials")}


def rendered_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "rendered").rglob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.parametrize("name,text", examples("playbook"), ids=[n for n, _t in examples("playbook")])
def test_playbook_examples_run(name, text, tmp_path):
    playbook = tmp_path / "example.yml"
    playbook.write_text(text)
    run_playbook(playbook, "-i", str(cluster_inventory(tmp_path)), extra_vars=render_vars(tmp_path))
    assert rendered_files(tmp_path), name


def role_of(variables):
    roles = {role for role in ROLES for key in variables if key.startswith(role + "_")}
    assert len(roles) == 1, "cannot tell which role {0} belongs to".format(sorted(variables))
    return roles.pop()


@pytest.mark.parametrize("name,text", examples("variables"), ids=[n for n, _t in examples("variables")])
def test_variable_examples_run_through_their_role(name, text, tmp_path):
    variables = yaml.safe_load(text)
    for key, value in variables.items():
        if re.search(r"_(file|dir)$", key) and isinstance(value, str):
            variables[key] = str(tmp_path / "paths" / value.lstrip("/"))
    role = role_of(variables)
    playbook = tmp_path / "example.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "k8s_clusters", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "k8s_monitoring.prometheus." + role}}]}]))
    run_playbook(playbook, "-i", str(cluster_inventory(tmp_path, variables)), extra_vars=render_vars(tmp_path))
    assert rendered_files(tmp_path), name


@pytest.mark.parametrize("name,text", examples("tasks"), ids=[n for n, _t in examples("tasks")])
def test_task_examples_run_against_a_real_pushgateway_and_prometheus(name, text, stack):
    pushgateway, prometheus = stack
    tasks = yaml.safe_load(text)
    for task in tasks:
        for module, args in task.items():
            if module.endswith("pushgateway_metrics"):
                args["url"] = pushgateway.url
            elif module.endswith("prometheus_query"):
                args.update(url=prometheus.url, wait_timeout=60)
    results, output = run_tasks(tasks)
    assert all(not r.get("failed") for r in results.values()), output


def shell_commands():
    commands = []
    for name, text in blocks("sh"):
        for line in text.splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                commands.append((name, command))
    return commands


@pytest.fixture(scope="module")
def plane(tmp_path_factory):
    crds = control_plane_crds()
    control = cp.ControlPlane(tmp_path_factory.mktemp("readme-plane"))
    try:
        control.start(crds, cp.EXAMPLE_NAMESPACES)
        yield control
    finally:
        control.stop()


def test_every_shell_command_runs(plane, tmp_path):
    commands = shell_commands()
    assert commands
    ran = []
    for name, command in commands:
        argv = shlex.split(command)
        if argv == ["make", "test"]:
            continue  # the command that runs this test
        if argv == ["make", "run"]:
            argv += ["RENDER_DIR=" + str(tmp_path / "make-run")]
        elif argv[0] == "ansible-playbook":
            argv = [str(REPO / ".venv" / "bin" / "ansible-playbook")] + \
                ["inventory/example" if arg == "my-inventory" else arg for arg in argv[1:]]
            base = tmp_path / str(len(ran))
            extra = {"prometheus_external_access_password_dir": str(base / "credentials/{{ inventory_hostname }}"),
                     "k8s_monitoring_render_dir": str(base / "rendered/{{ inventory_hostname }}")}
            if "k8s_monitoring_mode=render" not in command:
                extra["k8s_monitoring_kubeconfig"] = str(plane.kubeconfigs["admin"])
            argv += ["-e", yaml.safe_dump(extra, default_flow_style=True).strip()]
        else:
            pytest.fail("{0}: no rule to run {1!r}".format(name, command))
        result = subprocess.run(argv, cwd=str(REPO), env=ansible_env({"HOME": str(tmp_path)}), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False)
        assert result.returncode == 0, "{0}: {1}\n{2}".format(name, command, result.stdout[-3000:])
        ran.append(command)
    assert any("k8s_monitoring_mode=render" not in c and c.startswith("ansible-playbook") for c in ran)
    assert plane.list("apps/v1", "Deployment", "monitoring",
                      label_selector="app.kubernetes.io/managed-by=k8s_monitoring.prometheus")
