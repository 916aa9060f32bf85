"""One push of 1, 1 000 and 100 000 series: pushgateway_metrics versus curl --data-binary.

A real Pushgateway (Debian's prometheus-pushgateway) runs on a free loopback port.
For each size the same exposition text (one gauge family, one series per label
value) is pushed with PUT by:

* ``curl``          -- ``curl -X PUT --data-binary @file``: the vendor's way, the floor;
* ``module code``   -- a Python process running the module's code (read the group,
                       parse and compare, push), without Ansible around it;
* ``ansible task``  -- ``ansible-playbook`` with one ``pushgateway_metrics`` task
                       (``metrics_text: "{{ lookup('file', ...) }}"``): what a playbook pays.

Each is measured for a new group (the group is deleted before) and, for the module,
for a second push of the same values (read and compare only, nothing sent).
Seconds are wall-clock; peak memory is the largest RSS of the process and its
children (GNU time ``%M``). Nothing is asserted: figures, not tests.

Usage: .venv/bin/python bench/push_bench.py [--sizes 1,1000,100000] [--repeat 1]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
BIN = os.path.dirname(sys.executable)
TIME = "/usr/bin/time"

from tests.integration.services import start_pushgateway  # noqa: E402  (needs REPO on sys.path)

MODULE_CODE = """
import json, sys
sys.path.insert(0, {collections!r})
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[{collections!r}])._install()
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_client
spec = pushgateway_client.ARGUMENT_SPEC
params = dict((k, v.get("default")) for k, v in spec.items())
params.update(url={url!r}, job="bench", metrics_text=open({path!r}).read())
result = pushgateway_client.run(params, check_mode=False)
print(json.dumps({{"changed": result["changed"], "series": result["series_pushed"]}}))
"""

PLAYBOOK = """
- name: push bench
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Push
      k8s_monitoring.prometheus.pushgateway_metrics:
        url: "{url}"
        job: bench
        metrics_text: "{{{{ lookup('file', '{path}') }}}}"
"""


def exposition(series):
    lines = ["# HELP bench_value A benchmark gauge.", "# TYPE bench_value gauge"]
    lines.extend('bench_value{{series="s{0}",path="/a/b"}} {1}'.format(i, i * 0.5) for i in range(series))
    return "\n".join(lines) + "\n"


def measure(command, workdir, env=None):
    """(seconds, peak RSS MiB, stdout) of one command.

    Peak RSS comes from GNU time (``%M``: the largest RSS of the command or any child it
    waited for). Taking ``wait4`` rusage here instead would count this Python process's
    own memory, which a forked child carries until it execs.
    """
    report = os.path.join(workdir, "time.txt")
    started = time.monotonic()
    proc = subprocess.run([TIME, "-f", "%M", "-o", report] + command, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env, check=False)
    elapsed = time.monotonic() - started
    output = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError("{0} failed:\n{1}".format(command[0], output[-3000:]))
    with open(report) as handle:
        peak_kib = int(handle.read().strip().splitlines()[-1])
    return elapsed, peak_kib / 1024.0, output


def delete_group(url):
    request = urllib.request.Request(url + "/metrics/job/bench", method="DELETE")
    urllib.request.urlopen(request, timeout=30).read()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,1000,100000")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is printed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    curl = shutil.which("curl")
    if not curl or not os.path.exists(TIME):
        sys.exit("needs curl and GNU time (/usr/bin/time, Debian package time)")
    workdir = tempfile.mkdtemp(prefix="push-bench-")
    collections = os.path.join(REPO, ".collections")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "ansible-tmp"))
    gateway = start_pushgateway(os.path.join(workdir, "pg"))  # with a private persistence file
    rows = []
    try:
        for size in sizes:
            path = os.path.join(workdir, "metrics-{0}.txt".format(size))
            with open(path, "w") as handle:
                handle.write(exposition(size))
            size_mib = os.path.getsize(path) / 1048576.0
            script = MODULE_CODE.format(collections=collections, url=gateway.url, path=path)
            playbook = os.path.join(workdir, "push-{0}.yml".format(size))
            with open(playbook, "w") as handle:
                handle.write(PLAYBOOK.format(url=gateway.url, path=path))
            cases = [
                ("curl --data-binary", "new", [curl, "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "--data-binary",
                                               "@" + path, gateway.url + "/metrics/job/bench"]),
                ("module code", "new", [sys.executable, "-c", script]),
                ("module code", "unchanged", [sys.executable, "-c", script]),
                ("ansible task", "new", [os.path.join(BIN, "ansible-playbook"), playbook]),
                ("ansible task", "unchanged", [os.path.join(BIN, "ansible-playbook"), playbook]),
            ]
            for tool, state, command in cases:
                seconds, peaks = [], []
                for _repeat in range(args.repeat):
                    if state == "new":
                        delete_group(gateway.url)
                    elapsed, peak, output = measure(command, workdir, env)
                    if tool == "module code":
                        expect = state == "new"
                        assert json.loads(output.strip().splitlines()[-1])["changed"] is expect, output
                    seconds.append(elapsed)
                    peaks.append(peak)
                rows.append((size, size_mib, tool, state, statistics.median(seconds), statistics.median(peaks)))
                print("  {0:>7} series  {1:<20} {2:<9} {3:8.2f} s  {4:8.1f} MiB".format(
                    size, tool, state, rows[-1][4], rows[-1][5]), file=sys.stderr)
    finally:
        gateway.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("")
    print("One PUT to a real Pushgateway {0} on loopback (median of {1} run(s))".format(
        "(prometheus-pushgateway)", args.repeat))
    print("")
    print("| series | text MiB | tool | group before | seconds | peak RSS MiB |")
    print("|---:|---:|---|---|---:|---:|")
    for size, size_mib, tool, state, seconds, peak in rows:
        print("| {0:,} | {1:.2f} | {2} | {3} | {4:.2f} | {5:.1f} |".format(
            size, size_mib, tool, "absent" if state == "new" else "same values", seconds, peak))
    print("")
    print("'module code' = the module's own work in one Python process (GET /api/v1/metrics, parse, compare,")
    print("PUT); 'ansible task' adds ansible-playbook start-up, templating of the text and the module's AnsiballZ run.")
    if workdir and args.keep:
        print("kept", workdir)


if __name__ == "__main__":
    main()
