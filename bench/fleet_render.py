# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render-mode fleet benchmark: site.yml over inventories of N clusters.

    .venv/bin/python bench/fleet_render.py [--sizes 1,10,50] [--forks 10] [--repeat 1]

For each N it writes an inventory of N clusters into a temporary directory:
copies of the example hosts (inventory/example/hosts.yml), cycled, each in
k8s_clusters and in its template's platform group, with the template's host_vars
and the example group_vars (linked, so the current examples are what runs). Then it
runs ``ansible-playbook site.yml -e k8s_monitoring_mode=render`` from the checkout
into a temporary render directory and prints, per N: wall seconds, seconds per
cluster, files rendered, the largest single process's peak RSS (getrusage of the
ansible-playbook process tree: forks and module runs included) and the peak RSS
of the whole process tree summed over its processes (sampled from /proc, or with
psutil when it is installed).
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "inventory", "example")
BIN = os.path.dirname(os.path.abspath(sys.executable))

try:
    import psutil
except ImportError:  # not a requirement: /proc gives the same figures on Linux
    psutil = None


def example_hosts():
    """[(host, platform group)] of the example inventory, in file order."""
    with open(os.path.join(EXAMPLE, "hosts.yml")) as handle:
        inventory = yaml.safe_load(handle)
    hosts = []
    for group, body in ((inventory.get("k8s_clusters") or {}).get("children") or {}).items():
        for host in ((body or {}).get("hosts") or {}):
            hosts.append((host, group))
    if not hosts:
        raise SystemExit("inventory/example/hosts.yml has no hosts under k8s_clusters.children")
    return hosts


def write_inventory(directory, size):
    """An inventory of ``size`` clusters in ``directory``; returns its path."""
    with open(os.path.join(EXAMPLE, "hosts.yml")) as handle:
        example_vars = (yaml.safe_load(handle).get("k8s_clusters") or {}).get("vars") or {}
    templates = example_hosts()
    children = {}
    host_vars_dir = os.path.join(directory, "host_vars")
    os.makedirs(host_vars_dir)
    for index in range(size):
        template, group = templates[index % len(templates)]
        host = "{0}-{1:03d}".format(template, index)
        children.setdefault(group, {"hosts": {}})["hosts"][host] = None
        for suffix in (".yml", ".yaml", ""):  # host_vars/<host>.yml or a host_vars/<host>/ directory
            source = os.path.join(EXAMPLE, "host_vars", template + suffix)
            if os.path.isdir(source):
                shutil.copytree(source, os.path.join(host_vars_dir, host))
            elif os.path.isfile(source):
                shutil.copy(source, os.path.join(host_vars_dir, host + suffix))
    if os.path.isdir(os.path.join(EXAMPLE, "group_vars")):
        os.symlink(os.path.join(EXAMPLE, "group_vars"), os.path.join(directory, "group_vars"))
    path = os.path.join(directory, "hosts.yml")
    with open(path, "w") as handle:
        yaml.safe_dump({"k8s_clusters": {"vars": example_vars, "children": children}}, handle, default_flow_style=False)
    return path


def tree_rss(root_pid):
    """Summed RSS in bytes of ``root_pid`` and all its descendants."""
    if psutil is not None:
        try:
            root = psutil.Process(root_pid)
            processes = [root] + root.children(recursive=True)
        except psutil.Error:
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/{0}/stat".format(entry)) as handle:
                    # The command name may contain spaces; the fields after its ')' are fixed.
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in tree:
        try:
            with open("/proc/{0}/statm".format(pid)) as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid, interval=0.1):
        super(PeakSampler, self).__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.done.wait(self.interval)


def run_playbook(inventory, render_dir, forks, log_path):
    """Run site.yml in render mode; returns (wall seconds, max single-process RSS bytes, peak tree RSS bytes)."""
    command = [
        os.path.join(BIN, "ansible-playbook"), "-i", inventory, "site.yml",
        "--forks", str(forks),
        "-e", "k8s_monitoring_mode=render",
        "-e", "k8s_monitoring_render_dir={0}/{{{{ inventory_hostname }}}}".format(render_dir),
    ]
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".collections"),
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_LOCAL_TEMP": os.path.join(os.path.dirname(render_dir), "ansible-tmp"),
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    with open(log_path, "w") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = PeakSampler(process.pid)
        sampler.start()
        # wait4 gives the rusage of this child and its waited-for descendants:
        # ru_maxrss is the largest of them (KiB on Linux).
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-4000:]
        raise SystemExit("ansible-playbook failed ({0}); end of {1}:\n{2}".format(process.returncode, log_path, tail))
    return wall, usage.ru_maxrss * 1024, sampler.peak


def count_files(directory):
    return sum(len(files) for _root, _dirs, files in os.walk(directory))


def mib(value):
    return "{0:.0f}".format(value / 1048576.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="1,10,50", help="comma-separated fleet sizes (default: 1,10,50)")
    parser.add_argument("--forks", type=int, default=10, help="ansible-playbook --forks (default: 10)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the median is printed (default: 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary inventories, logs and rendered files")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if not os.path.exists(os.path.join(REPO, ".collections", "ansible_collections", "k8s_monitoring", "prometheus")):
        raise SystemExit("run `make bootstrap` first: .collections/ links this checkout as the collection")

    workdir = tempfile.mkdtemp(prefix="fleet-render-")
    print("fleet render benchmark: python {0}, {1} CPUs, forks {2}, {3} run(s) per size, work dir {4}".format(
        platform.python_version(), os.cpu_count(), args.forks, args.repeat, workdir))
    header = "{0:>8} {1:>9} {2:>13} {3:>7} {4:>18} {5:>16}".format(
        "clusters", "wall s", "s per cluster", "files", "max process MiB", "peak tree MiB")
    rows = []
    try:
        for size in sizes:
            runs = []
            for attempt in range(args.repeat):
                base = os.path.join(workdir, "n{0}-run{1}".format(size, attempt))
                # Two levels down, so example paths like {{ inventory_dir }}/../../build/...
                # (generated passwords, outside-side files) stay inside this run's directory.
                inventory_dir = os.path.join(base, "fleet", "inventory")
                os.makedirs(inventory_dir)
                inventory = write_inventory(inventory_dir, size)
                render_dir = os.path.join(base, "rendered")
                wall, max_process, peak_tree = run_playbook(inventory, render_dir, args.forks,
                                                            os.path.join(base, "ansible-playbook.log"))
                runs.append((wall, max_process, peak_tree, count_files(render_dir)))
            wall = statistics.median(run[0] for run in runs)
            max_process = max(run[1] for run in runs)
            peak_tree = max(run[2] for run in runs)
            files = runs[-1][3]
            rows.append("{0:>8} {1:>9.2f} {2:>13.3f} {3:>7} {4:>18} {5:>16}".format(
                size, wall, wall / size, files, mib(max_process), mib(peak_tree)))
            print("  N={0}: {1:.2f} s".format(size, wall), file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(header)
    for row in rows:
        print(row)
    # getrusage(RUSAGE_CHILDREN) of this script: the largest process of all runs, for cross-checking.
    print("largest child process over all runs (getrusage RUSAGE_CHILDREN): {0} MiB".format(
        mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
