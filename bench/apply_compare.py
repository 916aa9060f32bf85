# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply benchmark: the collection's one-call apply against the alternatives.

    .venv/bin/python bench/apply_compare.py                        # on a control plane of its own
    .venv/bin/python bench/apply_compare.py --kubeconfig PATH [--context NAME] [--host kps-staging]
    .venv/bin/python bench/apply_compare.py --prepare-only DIR     # no cluster: write what would run

Without --kubeconfig it starts the test control plane (etcd + kube-apiserver,
`make controlplane` builds it) and uses its kubectl; with one, the cluster it
points at (--kubeconfig, $K8S_AUTH_KUBECONFIG or $KUBECONFIG).

It renders the example manifests of one inventory host (site.yml in render mode),
then applies the same objects several ways, each into its own namespace, and prints
seconds for the first apply (objects created) and for re-applying unchanged objects,
with each re-apply's ratio to the floor, one kubernetes.core.k8s call:

- k8s one call (the floor): one kubernetes.core.k8s task with the whole list;
- collection: the `manifests` role (preflight, Secrets and other objects applied by
  server_side_apply, prune), as each role runs it;
- k8s per object: one kubernetes.core.k8s task per object;
- kubectl: ``kubectl apply --server-side`` of the same files;
- site.yml: the whole `site.yml` for the host, re-run unchanged (own control plane only:
  it writes to the host's real namespaces).

So that it never changes anything outside its namespaces: cluster-scoped objects
(Deckhouse ModuleConfig, ...) are left out; every object is moved into the
benchmark namespace and relabelled as component ``bench_apply_compare`` (so the
role's prune step can only see benchmark objects); workloads get ``replicas: 0``;
Ingresses get an ingress class no controller serves. Objects whose API the
cluster does not serve (CRDs not installed) are left out and listed. The
namespaces are deleted at the end unless --keep is given.
"""

from __future__ import absolute_import, division, print_function

import argparse
import copy
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
COLLECTIONS = os.path.join(REPO, ".collections")
sys.path.insert(0, COLLECTIONS)

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership  # noqa: E402

COMPONENT = "bench_apply_compare"
BENCH_INGRESS_CLASS = "k8s-monitoring-bench-unserved"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")
METHODS = ("k8s-one-call", "collection", "k8s-per-object", "kubectl")
FLOOR = "k8s-one-call"


def find_kubeconfig(explicit):
    """(path, None) for an existing kubeconfig, or (None, reason)."""
    candidates = []
    if explicit:
        candidates.append(("--kubeconfig", explicit))
    elif os.environ.get("K8S_AUTH_KUBECONFIG"):
        candidates.append(("K8S_AUTH_KUBECONFIG", os.environ["K8S_AUTH_KUBECONFIG"]))
    elif os.environ.get("KUBECONFIG"):
        candidates.append(("KUBECONFIG", os.environ["KUBECONFIG"].split(os.pathsep)[0]))
    else:
        candidates.append(("default", "~/.kube/config"))
    source, path = candidates[0]
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        return None, "no kubeconfig at {0} (from {1}); this benchmark needs a reachable cluster".format(path, source)
    return path, None


def api_client_or_reason(kubeconfig, context):
    """A connected kubernetes ApiClient, or (None, reason) when the API does not answer."""
    from kubernetes import client, config

    try:
        api_client = config.new_client_from_config(config_file=kubeconfig, context=context)
        version = client.VersionApi(api_client).get_code(_request_timeout=5)
    except Exception as err:  # any failure means: no usable cluster, say which
        return None, "the cluster of {0}{1} does not answer: {2}".format(
            kubeconfig, " (context {0})".format(context) if context else "", str(err).splitlines()[0][:200])
    return api_client, "Kubernetes {0}".format(version.git_version)


def ansible_env(workdir):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "ansible-tmp"),
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


def run(command, workdir, log_name, cwd=None):
    """Run ``command``; return wall seconds; stop with the log's end if it fails."""
    log_path = os.path.join(workdir, log_name)
    with open(log_path, "w") as log:
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd or REPO, env=ansible_env(workdir), stdout=log,
                                stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - start
    if result.returncode != 0:
        with open(log_path) as log:
            raise SystemExit("{0} failed ({1}); end of {2}:\n{3}".format(
                command[0], result.returncode, log_path, log.read()[-4000:]))
    return wall


def render_host(host, workdir):
    """Render site.yml for one example host; return its manifests (kustomizations left out)."""
    render_dir = os.path.join(workdir, "rendered")
    run([os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(REPO, "inventory", "example"), "site.yml",
         "--limit", host, "-e", "k8s_monitoring_mode=render",
         "-e", "k8s_monitoring_render_dir={0}/{{{{ inventory_hostname }}}}".format(render_dir)],
        workdir, "render.log")
    manifests = []
    host_dir = os.path.join(render_dir, host)
    for root, dirs, files in os.walk(host_dir):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".yaml") and name != "kustomization.yaml":
                with open(os.path.join(root, name)) as handle:
                    manifests.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    if not manifests:
        raise SystemExit("rendering {0} produced no manifests: is a role switched on in its group_vars?".format(host))
    return manifests


def prepare(manifests):
    """Objects safe to apply in a benchmark namespace, and a note for each object left out."""
    kept, notes = [], []
    for manifest in manifests:
        metadata = manifest.get("metadata") or {}
        if not metadata.get("namespace"):
            notes.append("{0} {1}: cluster-scoped, left out".format(manifest.get("kind"), metadata.get("name")))
            continue
        obj = ownership.owned(manifest, COMPONENT)
        if obj["kind"] in WORKLOAD_KINDS:
            obj.setdefault("spec", {})["replicas"] = 0
        if obj["kind"] == "Ingress":
            obj.setdefault("spec", {})["ingressClassName"] = BENCH_INGRESS_CLASS
            (obj["metadata"].get("annotations") or {}).pop("kubernetes.io/ingress.class", None)
        kept.append(obj)
    return kept, notes


def in_namespace(objects, namespace):
    moved = copy.deepcopy(objects)
    for obj in moved:
        obj["metadata"]["namespace"] = namespace
    return moved


def api_list(objects):
    seen = []
    for obj in objects:
        api = {"api_version": obj["apiVersion"], "kind": obj["kind"]}
        if api not in seen:
            seen.append(api)
    return seen


def connection_vars(kubeconfig, context):
    values = {}
    if kubeconfig:
        values["k8s_monitoring_kubeconfig"] = kubeconfig
    if context:
        values["k8s_monitoring_context"] = context
    return values


def write_yaml(path, data, secret=False):
    with open(path, "w") as handle:
        yaml.safe_dump(data, handle, default_flow_style=False, sort_keys=False)
    if secret:
        os.chmod(path, 0o600)


def collection_playbook(directory, objects, namespace, kubeconfig, context):
    write_yaml(os.path.join(directory, "objects.yml"), {"bench_objects": objects}, secret=True)
    play = {
        "name": "Apply with the collection's manifests role (one k8s call for the whole list)",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars_files": ["objects.yml"],
        "vars": dict(connection_vars(kubeconfig, context), k8s_monitoring_mode="apply"),
        "tasks": [{
            "name": "Apply the benchmark objects",
            "ansible.builtin.include_role": {"name": "k8s_monitoring.prometheus.manifests"},
            "vars": {
                "manifests_component": COMPONENT,
                "manifests_definitions": "{{ bench_objects }}",
                "manifests_required_apis": api_list(objects),
                "manifests_prune_kinds": api_list(objects),
                "manifests_prune_namespaces": [namespace],
            },
        }],
    }
    path = os.path.join(directory, "collection.yml")
    write_yaml(path, [play])
    return path


def per_object_playbook(directory, objects, kubeconfig, context):
    write_yaml(os.path.join(directory, "objects.yml"), {"bench_objects": objects}, secret=True)
    connection = {}
    if kubeconfig:
        connection["kubeconfig"] = kubeconfig
    if context:
        connection["context"] = context
    tasks = []
    for index, obj in enumerate(objects):
        task = {
            "name": "Apply {0} {1}/{2}".format(obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]),
            "kubernetes.core.k8s": dict(connection, **{
                "definition": "{{{{ bench_objects[{0}] }}}}".format(index),
                "apply": True,
                "server_side_apply": {"field_manager": ownership.FIELD_MANAGER, "force_conflicts": True},
            }),
        }
        if obj["kind"] == "Secret":
            task["no_log"] = True
        tasks.append(task)
    play = {"name": "Apply with one kubernetes.core.k8s task per object", "hosts": "localhost",
            "connection": "local", "gather_facts": False, "vars_files": ["objects.yml"], "tasks": tasks}
    path = os.path.join(directory, "per-object.yml")
    write_yaml(path, [play])
    return path


def kubectl_files(directory, objects):
    files_dir = os.path.join(directory, "files")
    os.makedirs(files_dir)
    for index, obj in enumerate(objects):
        name = "{0:02d}.{1}.{2}.yaml".format(index, obj["kind"].lower(), obj["metadata"]["name"])
        write_yaml(os.path.join(files_dir, name), obj, secret=obj["kind"] == "Secret")
    return files_dir


def one_call_playbook(directory, objects, kubeconfig, context):
    write_yaml(os.path.join(directory, "objects.yml"), {"bench_objects": objects}, secret=True)
    connection = dict((k, v) for k, v in (("kubeconfig", kubeconfig), ("context", context)) if v)
    play = {"name": "Apply with one kubernetes.core.k8s call for the whole list", "hosts": "localhost",
            "connection": "local", "gather_facts": False, "vars_files": ["objects.yml"],
            "tasks": [{"name": "Apply every object", "no_log": True, "kubernetes.core.k8s": dict(connection, **{
                "definition": "{{ bench_objects }}", "apply": True,
                "server_side_apply": {"field_manager": ownership.FIELD_MANAGER, "force_conflicts": True}})}]}
    path = os.path.join(directory, "one-call.yml")
    write_yaml(path, [play])
    return path


def noop_playbook(directory):
    path = os.path.join(directory, "noop.yml")
    write_yaml(path, [{"name": "ansible-playbook start-up only", "hosts": "localhost", "connection": "local",
                       "gather_facts": False, "tasks": [{"name": "Nothing", "ansible.builtin.meta": "noop"}]}])
    return path


def method_command(method, directory, objects, namespace, kubeconfig, context):
    os.makedirs(directory)
    if method == "collection":
        return [os.path.join(BIN, "ansible-playbook"), collection_playbook(directory, objects, namespace,
                                                                           kubeconfig, context)]
    if method == "k8s-one-call":
        return [os.path.join(BIN, "ansible-playbook"), one_call_playbook(directory, objects, kubeconfig, context)]
    if method == "k8s-per-object":
        return [os.path.join(BIN, "ansible-playbook"), per_object_playbook(directory, objects, kubeconfig, context)]
    command = [KUBECTL[0], "apply", "--server-side", "--force-conflicts",
               "--field-manager", ownership.FIELD_MANAGER, "-f", kubectl_files(directory, objects)]
    if kubeconfig:
        command += ["--kubeconfig", kubeconfig]
    if context:
        command += ["--context", context]
    return command


KUBECTL = [shutil.which("kubectl") or "kubectl"]


def site_command(host, kubeconfig, workdir):
    return [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(REPO, "inventory", "example"), "site.yml",
            "--limit", host, "-e", "k8s_monitoring_mode=apply", "-e", "k8s_monitoring_kubeconfig=" + kubeconfig,
            "-e", "prometheus_external_access_password_dir=" + os.path.join(workdir, "credentials"),
            "-e", "prometheus_external_access_grafana_datasource_file=" + os.path.join(workdir, "outside", "g.yaml"),
            "-e", "prometheus_external_access_federation_file=" + os.path.join(workdir, "outside", "f.yaml")]


def served_objects(api_client, objects):
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    dynamic = DynamicClient(api_client)
    served, notes = [], []
    for obj in objects:
        try:
            dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        except ResourceNotFoundError:
            notes.append("{0} {1}: {2} is not served (CRD missing), left out".format(
                obj["kind"], obj["metadata"]["name"], obj["apiVersion"]))
            continue
        served.append(obj)
    return dynamic, served, notes


def missing_after_apply(dynamic, objects):
    from kubernetes.dynamic.exceptions import NotFoundError

    missing = []
    for obj in objects:
        resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        try:
            dynamic.get(resource, name=obj["metadata"]["name"], namespace=obj["metadata"]["namespace"])
        except NotFoundError:
            missing.append("{0} {1}".format(obj["kind"], obj["metadata"]["name"]))
    return missing


def prepare_only(args, workdir):
    """Render and write everything the benchmark would run, without a cluster; syntax-check the playbooks."""
    objects, notes = prepare(render_host(args.host, workdir))
    for method in METHODS:
        namespace = "{0}-{1}".format(args.namespace_prefix, method)
        command = method_command(method, os.path.join(workdir, method), in_namespace(objects, namespace),
                                 namespace, args.kubeconfig, args.context)
        if command[0].endswith("ansible-playbook"):
            run(command + ["--syntax-check"], workdir, method + "-syntax.log")
        print("{0:>15}: {1}".format(method, " ".join(command)))
    print("{0} objects prepared in {1}".format(len(objects), workdir))
    for note in notes:
        print("  " + note)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--kubeconfig", help="kubeconfig (default: $K8S_AUTH_KUBECONFIG, $KUBECONFIG, ~/.kube/config)")
    parser.add_argument("--context", default=os.environ.get("K8S_AUTH_CONTEXT"), help="kubeconfig context")
    parser.add_argument("--host", default="kps-staging", help="example inventory host whose manifests are applied")
    parser.add_argument("--namespace-prefix", default="k8s-monitoring-bench", help="namespaces <prefix>-<method>")
    parser.add_argument("--repeat", type=int, default=3, help="unchanged re-applies per method; median printed")
    parser.add_argument("--keep", action="store_true", help="keep the namespaces and the work directory")
    parser.add_argument("--prepare-only", metavar="DIR", help="no cluster: render, write and syntax-check into DIR")
    args = parser.parse_args(argv)

    if args.prepare_only:
        os.makedirs(args.prepare_only, exist_ok=True)
        return prepare_only(args, tempfile.mkdtemp(prefix="apply-compare-", dir=args.prepare_only))

    plane = None
    if not (args.kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG") or os.environ.get("KUBECONFIG")):
        sys.path.insert(0, REPO)
        from tests import control_plane
        from tests.schema import crds_dir

        if not control_plane.binaries():
            print("apply_compare: skipped: no --kubeconfig and no control plane built (make controlplane).")
            return 0
        plane = control_plane.ControlPlane(tempfile.mkdtemp(prefix="apply-compare-plane-"))
        plane.start(crds=control_plane.crd_files(crds_dir()), namespaces=control_plane.EXAMPLE_NAMESPACES)
        args.kubeconfig = str(plane.kubeconfigs["admin"])
        KUBECTL[0] = str(control_plane.binaries()["kubectl"])
    try:
        return measure(args, plane)
    finally:
        if plane is not None:
            plane.stop()
            shutil.rmtree(str(plane.workdir), ignore_errors=True)


def measure(args, plane):
    kubeconfig, reason = find_kubeconfig(args.kubeconfig)
    if kubeconfig is None:
        print("apply_compare: skipped: {0}.".format(reason))
        return 0
    api_client, about = api_client_or_reason(kubeconfig, args.context)
    if api_client is None:
        print("apply_compare: skipped: {0}.".format(about))
        return 0
    args.kubeconfig = kubeconfig

    from kubernetes import client
    from kubernetes.client.rest import ApiException

    workdir = tempfile.mkdtemp(prefix="apply-compare-")
    core = client.CoreV1Api(api_client)
    namespaces = []
    rows, notes = [], []
    try:
        objects, notes = prepare(render_host(args.host, workdir))
        dynamic, objects, unserved = served_objects(api_client, objects)
        notes += unserved
        if not objects:
            print("apply_compare: skipped: none of the rendered objects can be applied here:")
            for note in notes:
                print("  " + note)
            return 0
        baseline = run([os.path.join(BIN, "ansible-playbook"), noop_playbook(workdir)], workdir, "noop.log")
        for method in METHODS:
            if method == "kubectl" and not shutil.which(KUBECTL[0]):
                notes.append("kubectl: not installed, row skipped")
                continue
            namespace = "{0}-{1}".format(args.namespace_prefix, method)
            core.create_namespace({"metadata": {"name": namespace,
                                                "labels": ownership.ownership_labels(COMPONENT)}})
            namespaces.append(namespace)
            placed = in_namespace(objects, namespace)
            command = method_command(method, os.path.join(workdir, method), placed, namespace,
                                     kubeconfig, args.context)
            created = run(command, workdir, method + "-create.log")
            missing = missing_after_apply(dynamic, placed)
            if missing:
                raise SystemExit("{0} did not create: {1}".format(method, ", ".join(missing)))
            again = [run(command, workdir, "{0}-reapply-{1}.log".format(method, attempt))
                     for attempt in range(args.repeat)]
            rows.append((method, created, statistics.median(again)))
        if plane is not None:
            command = site_command(args.host, kubeconfig, workdir)
            created = run(command, workdir, "site-create.log")
            again = [run(command, workdir, "site-reapply-{0}.log".format(attempt)) for attempt in range(args.repeat)]
            rows.append(("site.yml", created, statistics.median(again)))
    finally:
        if not args.keep:
            for namespace in namespaces:
                try:
                    core.delete_namespace(namespace)
                except ApiException as err:
                    print("could not delete namespace {0}: {1}".format(namespace, err.reason))
            shutil.rmtree(workdir, ignore_errors=True)

    print("apply benchmark: {0}, {1} objects of {2}, re-apply median of {3}".format(
        about, len(objects), args.host, args.repeat))
    floor = dict((method, again) for method, _created, again in rows).get(FLOOR)
    print("{0:>15} {1:>14} {2:>21} {3:>14}".format(
        "method", "first apply s", "unchanged re-apply s", "x " + FLOOR))
    for method, created, again in rows:
        print("{0:>15} {1:>14.2f} {2:>21.2f} {3:>14}".format(
            method, created, again, "{0:.2f}".format(again / floor) if floor else "-"))
    if plane is not None:
        print("site.yml: every role of {0} in its own namespaces, with its reads, preflights and "
              "prunes: not the same object set as the other rows.".format(args.host))
    print("ansible-playbook start-up with a no-op play: {0:.2f} s (included in both Ansible rows)".format(baseline))
    for note in notes:
        print("  " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
