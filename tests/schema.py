"""Offline schema validation of rendered manifests.

Core Kubernetes objects: ``kubernetes-validate`` in strict mode (unknown fields
are errors). Custom resources: the real CRD schemas from ``../shared/crds`` (or
``$K8S_MONITORING_CRDS_DIR``), made strict the same way: an object schema that
lists ``properties`` rejects any other field unless the CRD says
``x-kubernetes-preserve-unknown-fields`` -- a real API server would silently
prune such a field, which is exactly the kind of mistake to catch.
"""

import copy
import functools
import os
import pathlib

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
KUBERNETES_VERSION = "1.33.0"


def crds_dir():
    configured = os.environ.get("K8S_MONITORING_CRDS_DIR")
    candidates = [pathlib.Path(configured)] if configured else []
    candidates.append(REPO.parent / "shared" / "crds")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def require_crds_dir():
    directory = crds_dir()
    if directory is None:
        pytest.skip("CRD schemas not found: put the shared/ folder beside the repository "
                    "or set K8S_MONITORING_CRDS_DIR")
    return directory


def _strict(schema):
    schema = copy.deepcopy(schema)

    def walk(node):
        if not isinstance(node, dict):
            return
        if node.get("type") == "object" and "properties" in node \
                and "additionalProperties" not in node \
                and not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for child in (node.get(key) or {}).values():
                walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key) or []:
                walk(child)
    walk(schema)
    return schema


@functools.lru_cache(maxsize=None)
def crd_schemas():
    """{(group, version, kind): strict JSON schema} for every CRD in the shared folder."""
    schemas = {}
    directory = require_crds_dir()
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                # Some CRDs (Istio's) list only spec/status at the root; the API server
                # accepts the standard object fields regardless.
                root = schema.setdefault("properties", {})
                root.setdefault("apiVersion", {"type": "string"})
                root.setdefault("kind", {"type": "string"})
                root.setdefault("metadata", {"type": "object"})
                schemas[(spec["group"], version["name"], spec["names"]["kind"])] = _strict(schema)
    return schemas


def validate_manifest(manifest):
    """Raise an AssertionError naming the object and the field when ``manifest`` is invalid."""
    api_version = manifest["apiVersion"]
    group, _sep, version = api_version.rpartition("/")
    name = "{0} {1}".format(manifest.get("kind"), (manifest.get("metadata") or {}).get("name"))
    key = (group, version, manifest["kind"])
    # A kind a CRD defines is checked against that CRD (Gateway API's too, although its group ends in
    # k8s.io); a group that is not Kubernetes' own must have one; the rest are built-in kinds.
    third_party = bool(group) and "." in group and not group.endswith("k8s.io")
    schemas = crd_schemas() if third_party or crds_dir() else {}
    assert key in schemas or not third_party, "no CRD schema for {0} {1}".format(api_version, manifest["kind"])
    if key in schemas:
        errors = sorted(jsonschema.Draft7Validator(schemas[key]).iter_errors(manifest), key=str)
        assert not errors, "{0}: {1}".format(name, "; ".join(
            "{0}: {1}".format("/".join(str(p) for p in e.absolute_path), e.message) for e in errors))
        return
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        raise AssertionError("{0}: {1} at {2}".format(name, err.message, "/".join(str(p) for p in err.path)))


def validate_rendered_tree(root):
    """Validate every rendered YAML file below ``root``; returns how many objects were checked."""
    count = 0
    for path in sorted(pathlib.Path(root).rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                validate_manifest(doc)
                count += 1
    return count
