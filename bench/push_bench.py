"""One push of 1, 1 000 and 100 000 series (and 50 000 as structured metrics): pushgateway_metrics versus curl.

A real Pushgateway (Debian's prometheus-pushgateway) runs on a free loopback port.
For each size the same series (one gauge family, one series per label value) are
pushed with PUT by:

* ``curl``          -- ``curl -X PUT --data-binary @file`` of the exposition text: the
                       vendor's way, the floor;
* ``module code``   -- a Python process running the module's code (check the metrics,
                       read the group, compare, push), without Ansible around it;
* ``ansible task``  -- ``ansible-playbook`` with one ``pushgateway_metrics`` task: what a
                       playbook pays (Ansible start-up, templating, argument checks).

``text`` rows push ``metrics_text`` (``{{ lookup('file', ...) }}`` in the task);
``structured`` rows push the same series as ``metrics``, a list of
``{name, value, help, labels}`` (``{{ lookup('file', ...) | from_json }}``); their
floor is curl of the same series as text.

Each is measured for a new group (the group is deleted before) and for a second push
of the same values (curl sends them again; the module reads the group, compares and
sends nothing). Seconds are wall-clock, the median of ``--repeat`` rounds in which
every case runs once; "x curl" divides them by curl's seconds for the same series and
the same state of the group, measured in the same rounds. Peak memory is the largest RSS of the process and its children (GNU
time ``%M``). Nothing is asserted: figures, not tests.

Usage: .venv/bin/python bench/push_bench.py [--sizes 1,1000,100000] [--structured 50000] [--repeat 1]
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

# ansible_collections is a namespace package: the checkout's .collections on sys.path is enough,
# as in a module run, where AnsiballZ puts the module_utils on sys.path (no collection loader).
MODULE_CODE = """
import json, sys
sys.path.insert(0, {collections!r})
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_client
spec = pushgateway_client.ARGUMENT_SPEC
params = dict((k, v.get("default")) for k, v in spec.items())
params.update(url={url!r}, job="bench")
with open({path!r}) as handle:
    params[{option!r}] = json.load(handle) if {option!r} == "metrics" else handle.read()
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
        {option}: "{{{{ lookup('file', '{path}'){filters} }}}}"
"""


def series(count):
    return [("s{0}".format(i), i * 0.5) for i in range(count)]


def exposition(count):
    lines = ["# HELP bench_value A benchmark gauge.", "# TYPE bench_value gauge"]
    lines.extend('bench_value{{series="{0}",path="/a/b"}} {1}'.format(name, value) for name, value in series(count))
    return "\n".join(lines) + "\n"


def structured(count):
    return [{"name": "bench_value", "value": value, "help": "A benchmark gauge.",
             "labels": {"series": name, "path": "/a/b"}} for name, value in series(count)]


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


def workloads(args):
    """(form, series count) of every measured push."""
    sizes = [("text", int(s)) for s in args.sizes.split(",") if s]
    return sizes + [("structured", int(s)) for s in args.structured.split(",") if s]


def cases(form, size, workdir, gateway, collections):
    """(tool, state, command) of one workload; the curl cases come first (they are the floor).

    "unchanged" means the group already holds these values: curl PUTs them again (what a
    re-run of the vendor's way does, and the Pushgateway takes longer to replace a group
    than to create it); the module reads the group, compares and sends nothing.
    """
    text_path = os.path.join(workdir, "metrics-{0}.txt".format(size))
    with open(text_path, "w") as handle:
        handle.write(exposition(size))
    path, option, filters = text_path, "metrics_text", ""
    if form == "structured":
        path, option, filters = os.path.join(workdir, "metrics-{0}.json".format(size)), "metrics", " | from_json"
        with open(path, "w") as handle:
            json.dump(structured(size), handle)
    script = MODULE_CODE.format(collections=collections, url=gateway.url, path=path, option=option)
    playbook = os.path.join(workdir, "push-{0}-{1}.yml".format(form, size))
    with open(playbook, "w") as handle:
        handle.write(PLAYBOOK.format(url=gateway.url, path=path, option=option, filters=filters))
    curl = [shutil.which("curl"), "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "--data-binary", "@" + text_path,
            gateway.url + "/metrics/job/bench"]
    ansible = [os.path.join(BIN, "ansible-playbook"), playbook]
    return [("curl --data-binary", "new", curl), ("curl --data-binary", "unchanged", curl),
            ("module code", "new", [sys.executable, "-c", script]),
            ("module code", "unchanged", [sys.executable, "-c", script]), ("ansible task", "new", ansible),
            ("ansible task", "unchanged", ansible)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,1000,100000", help="series pushed as metrics_text")
    parser.add_argument("--structured", default="50000", help="series pushed as structured metrics ('' for none)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is printed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if not shutil.which("curl") or not os.path.exists(TIME):
        sys.exit("needs curl and GNU time (/usr/bin/time, Debian package time)")
    workdir = tempfile.mkdtemp(prefix="push-bench-")
    collections = os.path.join(REPO, ".collections")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "ansible-tmp"))
    gateway = start_pushgateway(os.path.join(workdir, "pg"))  # with a private persistence file
    rows = []
    try:
        for form, size in workloads(args):
            size_mib = len(exposition(size).encode("utf-8")) / 1048576.0
            todo = cases(form, size, workdir, gateway, collections)
            seconds, peaks = [[] for _case in todo], [[] for _case in todo]
            # Round by round, so that curl and the module meet the same load on a shared machine.
            for _repeat in range(args.repeat):
                for index, (tool, state, command) in enumerate(todo):
                    if state == "new":
                        delete_group(gateway.url)
                    elapsed, peak, output = measure(command, workdir, env)
                    if tool == "module code":
                        expect = state == "new"
                        assert json.loads(output.strip().splitlines()[-1])["changed"] is expect, output
                    seconds[index].append(elapsed)
                    peaks[index].append(peak)
            floors = dict((state, statistics.median(times)) for (tool, state, _c), times in zip(todo, seconds)
                          if tool.startswith("curl"))
            for (tool, state, _command), times, peak in zip(todo, seconds, peaks):
                median = statistics.median(times)
                rows.append((form, size, size_mib, tool, state, median, median / floors[state],
                             statistics.median(peak)))
                print("  {0:<10} {1:>7} series  {2:<20} {3:<9} {4:8.2f} s  {5:6.1f}x curl  {6:8.1f} MiB".format(
                    *rows[-1][:2] + rows[-1][3:]), file=sys.stderr)
    finally:
        gateway.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("")
    print("One PUT to a real Pushgateway (prometheus-pushgateway) on loopback (median of {0} run(s))".format(
        args.repeat))
    print("")
    print("| metrics as | series | text MiB | tool | group before | seconds | x curl | peak RSS MiB |")
    print("|---|---:|---:|---|---|---:|---:|---:|")
    for form, size, size_mib, tool, state, seconds, ratio, peak in rows:
        print("| {0} | {1:,} | {2:.2f} | {3} | {4} | {5:.2f} | {6:.1f} | {7:.1f} |".format(
            form, size, size_mib, tool, "absent" if state == "new" else "same values", seconds, ratio, peak))
    print("")
    print("'module code' = the module's own work in one Python process (check the metrics, GET /api/v1/metrics,")
    print("compare, PUT); 'ansible task' adds ansible-playbook start-up, templating of the metrics, Ansible's")
    print("argument checks and the module's AnsiballZ run. 'x curl' = seconds / curl's seconds for the same series")
    print("and the same group state ('same values': curl PUTs them again).")
    if args.keep:
        print("kept", workdir)


if __name__ == "__main__":
    main()
