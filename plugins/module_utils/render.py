# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render mode: manifests to files, one file per object, plus a kustomization.

Layout for one cluster (``dest`` is ``<render dir>``)::

    <dest>/kustomization.yaml              lists every role directory below
    <dest>/<role>/kustomization.yaml       lists the role's files, sorted
    <dest>/<role>/<namespace>.<kind>.<name>.yaml

Output is a pure function of the manifests, so re-rendering unchanged inputs
rewrites nothing. Files in a role directory that the current run does not
produce are removed (pruning, the render-mode twin of the cluster prune) unless
another instance of the role wrote them (their ownership instance label differs):
those stay, and the role's kustomization lists them too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

try:
    import yaml
except ImportError:  # PyYAML comes with ansible-core; ansible-test's import check runs without it
    HAS_YAML = False
    _SafeDumper = object
else:
    HAS_YAML = True
    _SafeDumper = yaml.SafeDumper

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership, validation

KUSTOMIZATION = "kustomization.yaml"
SECRET_FILE_MODE = 0o600
FILE_MODE = 0o644
HIDDEN = "<hidden: Secret data>"


class _Dumper(_SafeDumper):
    """Block style everywhere; multi-line strings as literal blocks for readability."""


def _str_representer(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


if HAS_YAML:
    _Dumper.add_representer(str, _str_representer)


def to_yaml(obj):
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1000)


def file_name(manifest):
    metadata = manifest.get("metadata") or {}
    scope = metadata.get("namespace") or "cluster"
    return "{0}.{1}.{2}.yaml".format(scope, manifest["kind"].lower(), metadata["name"])


def is_secret(manifest):
    return manifest.get("kind") == "Secret" and manifest.get("apiVersion") == "v1"


def plan_component(manifests, kept=()):
    """Map of file name -> (content, mode) for one role directory.

    ``kept`` files (another instance's) are listed in the kustomization, not written.
    The list is sorted, so it does not depend on which instance rendered last
    (kustomize orders objects by kind itself).
    """
    files = {}
    for manifest in manifests:
        name = file_name(manifest)
        if name in files:
            raise ValueError("two manifests render to the same file {0}".format(name))
        files[name] = (to_yaml(manifest), SECRET_FILE_MODE if is_secret(manifest) else FILE_MODE)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(set(files) | set(kept)),
    }
    if kept:
        clash = sorted(set(files) & set(kept))
        if clash:
            raise ValueError("{0} belongs to another instance of the role".format(", ".join(clash)))
    if kustomization["resources"]:
        files[KUSTOMIZATION] = (to_yaml(kustomization), FILE_MODE)
    return files


def files_of_other_instances(role_dir, instance):
    """Files in ``role_dir`` whose object another instance of the role rendered."""
    if not instance or not os.path.isdir(role_dir):
        return []
    others = []
    for name in sorted(os.listdir(role_dir)):
        if name.endswith(".yaml") and name != KUSTOMIZATION:
            obj = yaml.safe_load(_read(os.path.join(role_dir, name)) or "") or {}
            labels = (obj.get("metadata") or {}).get("labels") or {} if isinstance(obj, dict) else {}
            if labels.get(ownership.INSTANCE_KEY) not in (None, instance):
                others.append(name)
    return others


def plan_cluster_kustomization(dest, component, component_present):
    """The top-level kustomization listing every role directory that has one."""
    roles = set()
    if os.path.isdir(dest):
        for entry in os.listdir(dest):
            if os.path.isfile(os.path.join(dest, entry, KUSTOMIZATION)):
                roles.add(entry)
    if component_present:
        roles.add(component)
    else:
        roles.discard(component)
    if not roles:
        return None
    return to_yaml({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(roles),
    })


def _read(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write_atomic(path, content, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".render-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def render(dest, component, manifests, state="present", check_mode=False, instance=None):
    """Write (or, with ``state=absent``, remove) one role's files under ``dest``.

    Returns ``{changed, written, removed, files, diff}``. ``diff`` is a list of
    Ansible before/after dicts; Secret contents are replaced by a placeholder.
    """
    role_dir = os.path.join(dest, component)
    kept = files_of_other_instances(role_dir, instance)
    wanted = plan_component(manifests if state == "present" else [], kept)
    secret_files = set(file_name(m) for m in manifests if is_secret(m))

    written, removed, diff = [], [], []
    for name in sorted(wanted):
        content, mode = wanted[name]
        path = os.path.join(role_dir, name)
        current = _read(path)
        if current != content:
            written.append(path)
            hide = name in secret_files
            diff.append({
                "before_header": path, "after_header": path,
                "before": HIDDEN if hide and current is not None else (current or ""),
                "after": HIDDEN if hide else content,
            })
        elif os.path.exists(path) and (os.stat(path).st_mode & 0o777) != mode:
            written.append(path)

    if os.path.isdir(role_dir):
        for name in sorted(os.listdir(role_dir)):
            if name.endswith(".yaml") and name not in wanted and name not in kept:
                path = os.path.join(role_dir, name)
                removed.append(path)
                diff.append({"before_header": path, "after_header": path,
                             "before": "<file removed>\n", "after": ""})

    top_path = os.path.join(dest, KUSTOMIZATION)
    top_content = plan_cluster_kustomization(dest, component, KUSTOMIZATION in wanted)
    top_current = _read(top_path)
    if top_content != top_current:
        if top_content is None:
            removed.append(top_path)
        else:
            written.append(top_path)
        diff.append({"before_header": top_path, "after_header": top_path,
                     "before": top_current or "", "after": top_content or ""})

    if not check_mode:
        if wanted:
            os.makedirs(role_dir, exist_ok=True)
        for name in sorted(wanted):
            path = os.path.join(role_dir, name)
            if path in written:
                _write_atomic(path, wanted[name][0], wanted[name][1])
        for path in removed:
            if os.path.exists(path):
                os.unlink(path)
        if top_content is not None and top_path in written:
            os.makedirs(dest, exist_ok=True)
            _write_atomic(top_path, top_content, FILE_MODE)
        if not wanted and os.path.isdir(role_dir) and not os.listdir(role_dir):
            os.rmdir(role_dir)

    return {
        "changed": bool(written or removed),
        "written": written,
        "removed": removed,
        "files": [os.path.join(role_dir, n) for n in sorted(wanted) if n not in kept],
        "diff": diff,
    }


ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    component=dict(type="str", required=True),
    instance=dict(type="str"),
    manifests=dict(type="list", elements="dict", default=[]),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def build(params, check_mode):
    """Builder entry point shared by the module and its action plugin."""
    validation.component("component", params["component"])
    if params.get("instance"):
        validation.label_value("instance", params["instance"])
    return render(params["dest"], params["component"], params["manifests"],
                  state=params["state"], check_mode=check_mode, instance=params.get("instance"))
