# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cost of the network_policies builder and of its apply-mode live checks.

    .venv/bin/python bench/network_policies_bench.py [--pods 100,1000,10000] [--repeat 5]

Prints, per preset, the time of one ``build()`` (what the action plugin runs per
cluster, without Ansible's own task overhead), and then the time of the live
checks (``live_findings`` over the built policies and ``cni_finding`` over the
DaemonSets) for clusters with N pods in the monitoring namespace, which is what
apply mode adds. Optionally (``--nca``) the wall time of one network-config-analyzer
connectivity run over the kube-prometheus-stack test world.
Nothing is written into the checkout.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, ".collections"))

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import network_policies  # noqa: E402

WORLD = os.path.join(REPO, "tests", "integration", "data", "network_policies", "worlds", "kube-prometheus-stack.yaml")


def timed(function, repeat):
    samples = []
    for dummy in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def synthetic_pods(count):
    """``count`` pods in ``monitoring``: one of each kind the preset selects, the rest unrelated workloads."""
    kinds = [({"app.kubernetes.io/name": "prometheus"}, [9090, 8080]),
             ({"app.kubernetes.io/name": "prometheus-node-exporter"}, [9100]),
             ({"app.kubernetes.io/name": "kube-state-metrics"}, [8080]),
             ({"app.kubernetes.io/name": "alertmanager"}, [9093, 9094]),
             ({"app.kubernetes.io/name": "grafana"}, [3000]),
             ({"app": "kube-prometheus-stack-operator"}, [10250])]
    pods = []
    for index in range(count):
        labels, ports = kinds[index] if index < len(kinds) else ({"app": "job-{0}".format(index % 50)}, [8000])
        container = {"name": "c", "ports": [{"containerPort": p, "protocol": "TCP"} for p in ports]}
        pods.append({"metadata": {"name": "pod-{0}".format(index), "namespace": "monitoring", "labels": labels},
                     "spec": {"containers": [container]}})
    return pods


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nca", default=None, help="path of the nca executable; unset skips the nca figure")
    args = parser.parse_args()

    print("build() per preset (all components on), median of {0}".format(args.repeat))
    print("{0:<24} {1:>9} {2:>10}".format("preset", "policies", "ms"))
    for preset in sorted(network_policies.PRESETS):
        params = {"preset": preset, "components": dict((c, True) for c in network_policies.COMPONENTS),
                  "pushers": [{"namespace": "batch", "pod_labels": {"app": "report"}}],
                  "api_server_cidrs": ["10.0.0.0/24"]}
        if preset == "deckhouse":  # no Fluent Bit or ingress controller of its own: describe them
            params["workloads"] = dict((name, {"namespace": "logging", "pod_labels": {"app": name.replace("_", "-")}})
                                       for name in ("fluent_bit", "ingress_controller"))
        count = len(network_policies.build(params)["manifests"])
        seconds = timed(lambda: network_policies.build(params), args.repeat)
        print("{0:<24} {1:>9} {2:>10.3f}".format(preset, count, seconds * 1000))

    print()
    print("apply-mode live checks (kube-prometheus-stack defaults), median of {0}".format(args.repeat))
    print("{0:>8} {1:>10} {2:>10}".format("pods", "ms", "findings"))
    policies = network_policies.build({"api_server_cidrs": ["10.0.0.0/24"]})["manifests"]
    daemonsets = [{"metadata": {"namespace": "kube-system", "name": "ds-{0}".format(i)}} for i in range(30)]
    daemonsets.append({"metadata": {"namespace": "kube-system", "name": "calico-node"}})
    for count in [int(n) for n in args.pods.split(",")]:
        pods = synthetic_pods(count)
        findings = network_policies.live_findings(policies, pods)
        seconds = timed(lambda: (network_policies.live_findings(policies, pods),
                                 network_policies.cni_finding(daemonsets)), args.repeat)
        print("{0:>8} {1:>10.2f} {2:>10}".format(count, seconds * 1000, len(findings)))

    if args.nca:
        print()
        with tempfile.TemporaryDirectory() as tmp:
            policy_file = os.path.join(tmp, "policies.yaml")
            with open(policy_file, "w") as handle:
                yaml.safe_dump_all(policies, handle)
            command = [args.nca, "--connectivity", policy_file, "--ns_list", WORLD, "--pod_list", WORLD,
                       "--output_format", "txt_no_fw_rules"]
            seconds = timed(lambda: subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   check=True, timeout=120), args.repeat)
            print("nca connectivity over the kube-prometheus-stack world: {0:.2f} s wall (median of {1})".format(
                seconds, args.repeat))


if __name__ == "__main__":
    main()
