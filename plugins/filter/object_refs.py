# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``object_refs``: manifests reduced to their identity, safe to pass to logged modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def object_refs(manifests):
    refs = []
    for manifest in manifests or []:
        metadata = manifest.get("metadata") or {}
        ref_metadata = {"name": metadata.get("name")}
        if metadata.get("namespace"):
            ref_metadata["namespace"] = metadata["namespace"]
        refs.append({"apiVersion": manifest.get("apiVersion"), "kind": manifest.get("kind"),
                     "metadata": ref_metadata})
    return refs


class FilterModule(object):
    def filters(self):
        return {"object_refs": object_refs}
