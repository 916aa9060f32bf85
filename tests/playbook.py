"""Run ansible-playbook / ansible from the test venv against the working tree.

The collection resolves through ``.collections`` (a link to this checkout, made
by ``make bootstrap``), so tests exercise the files as they are, not an installed copy.
"""

import json
import os
import pathlib
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent


def example_clusters():
    """The hosts of the example inventory (one per cluster), sorted."""
    def hosts(group):
        found = list((group.get("hosts") or {}).keys())
        for child in (group.get("children") or {}).values():
            found.extend(hosts(child or {}))
        return found

    return sorted(hosts(yaml.safe_load((REPO / "inventory" / "example" / "hosts.yml").read_text())["k8s_clusters"]))


def site_roles():
    """The roles playbooks/site.yml includes, in its order."""
    play = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())[0]
    return tuple(task["ansible.builtin.include_role"]["name"].rpartition(".")[2] for task in play["tasks"])


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_LOCAL_TEMP": str(REPO / "build" / "ansible-tmp"),
        "PATH": "{0}{1}{2}".format(BIN, os.pathsep, env.get("PATH", "")),
    })
    env.update(extra or {})
    return env


def run_playbook(playbook, *args, extra_vars=None, env=None, check=True, cwd=None, timeout=300):
    """Run ``ansible-playbook`` and return the CompletedProcess (stdout and stderr merged)."""
    command = [str(BIN / "ansible-playbook"), str(playbook)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    command += list(args)
    result = subprocess.run(command, cwd=str(cwd or REPO), env=ansible_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError("ansible-playbook {0} failed ({1}):\n{2}".format(playbook, result.returncode, result.stdout))
    return result


def recap(output):
    """{host: {ok: n, changed: n, failed: n, ...}} from the PLAY RECAP of ``output``."""
    hosts = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line and "=" in line:
            host, _sep, counters = line.partition(":")
            hosts[host.strip()] = dict((k, int(v)) for k, v in (c.split("=") for c in counters.split()))
    return hosts
