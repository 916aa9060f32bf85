# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ownership labels: how the collection recognises the objects it made.

Every object a role builds carries ``app.kubernetes.io/managed-by``, the role's
name and the *instance*: which use of the role made it (``<role>_instance``, by
default the namespace the role works in). Pruning lists objects by all three
labels and deletes those the current run no longer wants, so nothing created by
hand, by another tool or by another use of the same role is ever touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "k8s_monitoring.prometheus"
COMPONENT_KEY = "prometheus.k8s-monitoring.io/role"
INSTANCE_KEY = "prometheus.k8s-monitoring.io/instance"
FIELD_MANAGER = "k8s-monitoring-prometheus"


def ownership_labels(component, instance=None):
    labels = {MANAGED_BY_KEY: MANAGED_BY_VALUE, COMPONENT_KEY: component}
    if instance:
        labels[INSTANCE_KEY] = instance
    return labels


def label_selector(component, instance=None):
    """The selector string that finds every object this use of ``component`` made."""
    return ",".join("{0}={1}".format(k, v) for k, v in sorted(ownership_labels(component, instance).items()))


def with_instance(manifests, instance):
    """Copies of ``manifests`` labelled with the instance that builds them."""
    result = []
    for manifest in manifests:
        labelled = copy.deepcopy(manifest)
        metadata = labelled.setdefault("metadata", {})
        metadata["labels"] = dict(metadata.get("labels") or {}, **{INSTANCE_KEY: instance})
        result.append(labelled)
    return result


def owned(manifest, component):
    """Return a copy of ``manifest`` with the ownership labels of ``component`` added."""
    result = copy.deepcopy(manifest)
    metadata = result.setdefault("metadata", {})
    metadata["labels"] = dict(metadata.get("labels") or {}, **ownership_labels(component))
    return result


def secret(name, namespace, data, component, secret_type="Opaque"):
    """An owned Secret; ``data`` values (str or bytes) are base64-encoded here."""
    encoded = {}
    for key, value in data.items():
        if not isinstance(value, bytes):
            value = value.encode("utf-8")
        encoded[key] = base64.b64encode(value).decode("ascii")
    return owned({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                  "type": secret_type, "data": encoded}, component)


def is_owned_by(obj, component, instance=None):
    obj_labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(obj_labels.get(k) == v for k, v in ownership_labels(component, instance).items())


def object_key(obj):
    """Identity of an object: (apiVersion group, kind, namespace, name).

    Only the API group counts, not its version: a PodMonitor read back as
    ``monitoring.coreos.com/v1`` is the same object whichever version built it.
    """
    api_version = obj.get("apiVersion", "")
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    metadata = obj.get("metadata") or {}
    return (group, obj.get("kind"), metadata.get("namespace") or "", metadata.get("name"))


def select_prunable(existing, wanted, component, instance=None):
    """Objects in ``existing`` that ``component`` owns and ``wanted`` no longer contains.

    ``existing`` is what the cluster returned for the role's label selector;
    the ownership check is repeated here so a too-wide listing can never lead
    to deleting someone else's object.
    """
    wanted_keys = set(object_key(m) for m in wanted)
    prunable = [
        obj for obj in existing
        if is_owned_by(obj, component, instance) and object_key(obj) not in wanted_keys
    ]
    return sorted(prunable, key=object_key)
