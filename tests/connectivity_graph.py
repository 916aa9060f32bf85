"""Who may talk to whom in each rendered cluster, drawn from the analyzer's answer (`make graph`).

For every cluster under the render directory, network-config-analyzer computes the
connectivity of the cluster's pods under the collection's NetworkPolicies:

- the pods the platform brings (Prometheus, exporters, Grafana, the ingress
  controller, other teams' workloads) come from the world of the cluster's
  network_policies preset, tests/integration/data/network_policies/worlds/, minus
  the pods that stand for what this collection runs;
- those, and the policies, come from the rendered manifests: a Deployment is one
  endpoint for nca. What Deckhouse runs for a ModuleConfig is described in its
  world, like the rest of the platform.

The picture groups pods by workload inside a box per namespace (red: default deny),
labels each edge with the ports it allows, and draws a workload no policy
protects (every pod may open every port on it) dashed, without the edges into it
(they would be all edges). Sources outside the pod network (the API server's
CIDR) are address nodes. Written beside the manifests: connectivity.{dot,svg,png}.

    python -m tests.connectivity_graph [render dir] [--inventory inventory/example]
"""

import argparse
import collections
import ipaddress
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

from tests import network_analyzer

REPO = pathlib.Path(__file__).resolve().parent.parent
WORLDS = REPO / "tests" / "integration" / "data" / "network_policies" / "worlds"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# World pods that stand for what a role of this collection runs; the rendered objects take their place.
STANDS_FOR = "k8s-monitoring.test/stands-for"
ENDPOINT = re.compile(r"^(?P<namespace>[^/]+)/(?P<name>[^\[]+)\[(?P<kind>\w+)\]$")
# A pod's generated suffix: a StatefulSet ordinal, a ReplicaSet / Job hash.
POD_SUFFIX = re.compile(r"-(\d+|[a-z0-9]{3,5})$")


def cluster_presets(inventory):
    """{cluster: network_policies preset} from the inventory, as Ansible resolves it."""
    listing = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory),
                              "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                             timeout=120, check=True).stdout
    hostvars = json.loads(listing)["_meta"]["hostvars"]
    return dict((host, variables["network_policies_preset"]) for host, variables in hostvars.items()
                if variables.get("network_policies_enabled") and variables.get("network_policies_preset"))


def rendered_objects(cluster_dir):
    for path in sorted(pathlib.Path(cluster_dir).rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            yield yaml.safe_load(path.read_text())


def cluster_resources(cluster_dir, preset):
    """The objects nca reads for one cluster: the platform's world, the rendered workloads and policies."""
    world = yaml.safe_load((WORLDS / "{0}.yaml".format(preset)).read_text())["items"]
    objects = [item for item in world if STANDS_FOR not in (item["metadata"].get("annotations") or {})]
    objects += [obj for obj in rendered_objects(cluster_dir) if obj["kind"] in WORKLOAD_KINDS + ("NetworkPolicy",)]
    return objects


def default_deny_namespaces(objects):
    """Namespaces where a policy selects every pod and lets nothing in."""
    return sorted(obj["metadata"]["namespace"] for obj in objects
                  if obj["kind"] == "NetworkPolicy" and not obj["spec"].get("podSelector")
                  and "Ingress" in obj["spec"].get("policyTypes", ["Ingress"]) and not obj["spec"].get("ingress"))


def workload(endpoint):
    """nca endpoint -> (namespace, workload name); an address range -> ("", CIDR list)."""
    match = ENDPOINT.match(endpoint)
    if not match:
        low, dummy, high = endpoint.partition("-")
        networks = ipaddress.summarize_address_range(ipaddress.ip_address(low), ipaddress.ip_address(high or low))
        return "", ", ".join(str(network) for network in networks)
    name = match.group("name")
    if match.group("kind") == "Pod":
        name = POD_SUFFIX.sub("", name)
    return match.group("namespace"), name


def port_label(allowed):
    if allowed is None:
        return "all"
    parts = []
    for protocol in sorted(allowed):
        ports = allowed[protocol]
        parts.append("{0} {1}".format(protocol, "all" if ports is None else ",".join(str(p) for p in sorted(ports))))
    return "\n".join(parts)


def merge(first, second):
    """Union of two parse_connection results."""
    if first is None or second is None:
        return None
    merged = dict((protocol, None if ports is None else set(ports)) for protocol, ports in first.items())
    for protocol, ports in second.items():
        if protocol in merged and (merged[protocol] is None or ports is None):
            merged[protocol] = None
        else:
            merged.setdefault(protocol, set()).update(ports)
    return merged


def workload_graph(connections):
    """Pod connectivity -> (nodes {(ns, name)}, open nodes, edges {(src, dst): allowed}) by workload.

    A workload is open when every other pod endpoint may open every port on it; its
    incoming edges are left out of the picture.
    """
    pods = sorted({e for pair in connections for e in pair if ENDPOINT.match(e)})
    nodes = {workload(pod) for pod in pods}
    open_nodes = set()
    for node in nodes:
        members = [pod for pod in pods if workload(pod) == node]
        sources = [pod for pod in pods if pod not in members]
        if all((src, dst) in connections and connections[(src, dst)] is None for src in sources for dst in members):
            open_nodes.add(node)
    edges = {}
    for (src, dst), allowed in connections.items():
        target = workload(dst)
        if target not in nodes or target in open_nodes:
            continue
        key = (workload(src), target)
        edges[key] = merge(edges[key], allowed) if key in edges else allowed
    return nodes, open_nodes, edges


def node_id(node):
    return "{0}/{1}".format(*node) if node[0] else node[1]


def quoted(text):
    return '"{0}"'.format(text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))


def to_dot(cluster, nodes, open_nodes, edges, deny):
    lines = ["digraph {0} {{".format(quoted(cluster)),
             "  graph [rankdir=LR, fontname=Helvetica, label={0}, labelloc=t, fontsize=18];".format(
                 quoted("{0}: who may connect to whom under the NetworkPolicies".format(cluster))),
             "  node [shape=box, style=rounded, fontname=Helvetica, fontsize=11];",
             "  edge [fontname=Helvetica, fontsize=10, color=\"#1f6f3f\", fontcolor=\"#1f6f3f\"];"]
    by_namespace = collections.defaultdict(list)
    for node in nodes | {src for src, dst in edges}:
        by_namespace[node[0]].append(node)
    for index, namespace in enumerate(sorted(by_namespace)):
        if namespace:
            denied = namespace in deny
            lines.append("  subgraph cluster_{0} {{".format(index))
            lines.append("    label={0}; color={1}; penwidth={2}; fontname=Helvetica;".format(
                quoted("namespace {0}{1}".format(namespace, " (default deny)" if denied else "")),
                '"#c0392b"' if denied else '"#7f8c8d"', 2 if denied else 1))
        else:
            lines.append("  subgraph cluster_{0} {{".format(index))
            lines.append('    label="outside the pod network"; color="#7f8c8d"; style=dashed; fontname=Helvetica;')
        for node in sorted(by_namespace[namespace]):
            if node in open_nodes:
                attributes = "label={0}, style=\"rounded,dashed\", color=\"#7f8c8d\"".format(
                    quoted(node[1] + "\n(not protected: open to all)"))
            elif not node[0]:
                attributes = "label={0}, shape=ellipse".format(quoted(node[1]))
            else:
                attributes = "label={0}".format(quoted(node[1]))
            lines.append("    {0} [{1}];".format(quoted(node_id(node)), attributes))
        lines.append("  }")
    for (src, dst) in sorted(edges):
        label = quoted(port_label(edges[(src, dst)]))
        lines.append("  {0} -> {1} [label={2}];".format(quoted(node_id(src)), quoted(node_id(dst)), label))
    lines.append("}")
    return "\n".join(lines) + "\n"


def analyse(cluster_dir, preset, scratch):
    """nca's pod connectivity and warnings for one rendered cluster; the objects it read."""
    objects = cluster_resources(cluster_dir, preset)
    resources = pathlib.Path(scratch) / "cluster.yaml"
    resources.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objects}))
    connections, warnings = network_analyzer.connectivity([resources])
    return objects, connections, warnings


def draw(cluster_dir, preset, out_dir=None):
    """Analyse one rendered cluster and write connectivity.dot, .svg and .png; returns (connections, warnings)."""
    cluster_dir = pathlib.Path(cluster_dir)
    out_dir = pathlib.Path(out_dir or cluster_dir)
    with tempfile.TemporaryDirectory() as scratch:
        objects, connections, warnings = analyse(cluster_dir, preset, scratch)
    nodes, open_nodes, edges = workload_graph(connections)
    dot = out_dir / "connectivity.dot"
    dot.write_text(to_dot(cluster_dir.name, nodes, open_nodes, edges, default_deny_namespaces(objects)))
    for fmt in ("svg", "png"):
        subprocess.run(["dot", "-T" + fmt, "-o", str(out_dir / "connectivity.{0}".format(fmt)), str(dot)],
                       check=True, timeout=120)
    return connections, warnings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("render_dir", nargs="?", default="build/rendered")
    parser.add_argument("--inventory", default=str(REPO / "inventory" / "example"))
    args = parser.parse_args(argv)
    presets = cluster_presets(args.inventory)
    root = pathlib.Path(args.render_dir)
    drawn = 0
    for cluster_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        preset = presets.get(cluster_dir.name)
        if not (cluster_dir / "network_policies").is_dir() or not preset:
            print("{0}: no NetworkPolicies rendered, nothing to draw".format(cluster_dir.name))
            continue
        connections, dummy = draw(cluster_dir, preset)
        drawn += 1
        picture = cluster_dir / "connectivity.png"
        print("{0}: {1} allowed pod-to-pod connections -> {2}".format(cluster_dir.name, len(connections), picture))
    if not drawn:
        print("Nothing to draw under {0}: run `make run` first.".format(root))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
