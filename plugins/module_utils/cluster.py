# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-side helpers for the preflight and prune modules.

Connection handling is kubernetes.core's (``get_api_client``): kubeconfig,
context and the ``K8S_AUTH_*`` environment that AWX injects all work the same
way as in ``kubernetes.core.k8s``. What is added here is turning the many ways a
connection can fail into one sentence that says what is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import validation

# Where each third-party API comes from, for the "is not installed" message.
API_SOURCES = {
    "monitoring.coreos.com": "prometheus-operator (kube-prometheus-stack, Deckhouse, Verrazzano)",
    "security.istio.io": "Istio (istio-base chart)",
    "deckhouse.io": "Deckhouse (deckhouse-controller)",
    "networking.k8s.io": "Kubernetes itself",
}


# The argument spec of an {api_version, kind} entry, shared by the modules that take lists of them.
API_REF_OPTIONS = dict(api_version=dict(type="str", required=True), kind=dict(type="str", required=True))


def api_group(api_version):
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def describe_api(api):
    """``PodMonitor (monitoring.coreos.com/v1)``."""
    return "{0} ({1})".format(api["kind"], api["api_version"])


def missing_api_message(missing):
    parts = []
    for api in missing:
        source = api.get("source") or API_SOURCES.get(api_group(api["api_version"]), "its vendor")
        parts.append("{0}, which comes from {1}".format(describe_api(api), source))
    return (
        "The cluster does not serve {0}; install the CRD{1} first. "
        "Nothing was changed.".format("; ".join(parts), "s" if len(missing) > 1 else "")
    )


def input_problem(params, apis_option=None):
    """A message for malformed module inputs, checked before any connection, or None."""
    try:
        host = params.get("host")
        if host:
            validation.http_url("host (k8s_monitoring host / K8S_AUTH_HOST)", host)
        for option in ([apis_option] if apis_option else []) + ["prune_kinds"]:
            for index, api in enumerate(params.get(option) or []):
                where = "{0}[{1}]".format(option, index)
                validation.api_version(where + ".api_version", api.get("api_version"))
                validation.kind(where + ".kind", api.get("kind"))
        for option, index, obj in [(o, i, obj) for o in ("objects", "definitions")
                                   for i, obj in enumerate(params.get(o) or [])]:
            where = "{0}[{1}]".format(option, index)
            validation.api_version(where + ".apiVersion", obj.get("apiVersion"))
            validation.kind(where + ".kind", obj.get("kind"))
            metadata = obj.get("metadata")
            if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
                raise validation.ValidationError(where + ".metadata", "expected a mapping with a name", metadata)
            if metadata.get("namespace") is not None:
                validation.dns1123_label(where + ".metadata.namespace", metadata["namespace"])
        if params.get("component") is not None:
            validation.component("component", params["component"])
        if params.get("instance"):
            validation.label_value("instance", params["instance"])
        for option in ("namespaces", "prune_namespaces"):
            for index, namespace in enumerate(params.get(option) or []):
                validation.dns1123_label("{0}[{1}]".format(option, index), namespace)
    except validation.ValidationError as err:
        return str(err)
    return None


def connection_settings_problem(params, environ=None):
    """A sentence about an obviously missing connection setting, or None.

    Checked before the Kubernetes client is created, because its own errors for
    these cases ("Invalid kube-config file. No configuration found.") do not
    say which setting to fix.
    """
    environ = os.environ if environ is None else environ
    kubeconfig = params.get("kubeconfig") or environ.get("K8S_AUTH_KUBECONFIG")
    if isinstance(kubeconfig, str):
        for path in kubeconfig.split(os.pathsep):
            if not os.path.exists(os.path.expanduser(path)):
                return (
                    "The kubeconfig file {0} does not exist (from k8s_monitoring_kubeconfig "
                    "or K8S_AUTH_KUBECONFIG). Nothing was changed.".format(path)
                )
        return None
    if kubeconfig is not None or params.get("host") or environ.get("K8S_AUTH_HOST"):
        return None
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return None  # in-cluster service account
    default = environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    if not any(os.path.exists(p) for p in default.split(os.pathsep)):
        return (
            "No Kubernetes connection is configured: set k8s_monitoring_kubeconfig "
            "(or K8S_AUTH_KUBECONFIG / KUBECONFIG), or K8S_AUTH_HOST with "
            "K8S_AUTH_API_KEY, or run in render mode (k8s_monitoring_mode: render). "
            "Nothing was changed."
        )
    return None


def api_error_message(err, host=None):
    """One sentence for an exception raised while talking to the API server."""
    where = "the Kubernetes API{0}".format(" at " + host if host else "")
    status = getattr(err, "status", None)
    if status in (401, 403):
        return (
            "{0} refused the credentials (HTTP {1}): check the token or client "
            "certificate and its RBAC permissions. Nothing was changed.".format(where[0].upper() + where[1:], status)
        )
    text = to_text(err)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text:
        return (
            "The TLS certificate of {0} is not trusted (wrong CA, or "
            "K8S_AUTH_SSL_CA_CERT missing). Nothing was changed.".format(where)
        )
    if "Max retries exceeded" in text or "Connection refused" in text or "timed out" in text.lower():
        return "{0} did not answer ({1}). Nothing was changed.".format(
            where[0].upper() + where[1:], _short_reason(text))
    return "Could not talk to {0}: {1}. Nothing was changed.".format(where, _short_reason(text))


def _short_reason(text):
    for marker in ("Connection refused", "timed out", "Name or service not known",
                   "No route to host", "Temporary failure in name resolution"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.splitlines()[0][:300] if text else "unknown error"


def find_missing_apis(resource_lookup, required_apis):
    """Required APIs that ``resource_lookup(kind, api_version)`` cannot find."""
    missing = []
    for api in required_apis:
        try:
            resource_lookup(api["kind"], api["api_version"])
        except Exception as err:  # ResourceNotFoundError, ResourceNotUniqueError
            if type(err).__name__ in ("ResourceNotFoundError", "ResourceNotUniqueError"):
                missing.append(api)
            else:
                raise
    return missing


def needed_access(objects, prune_kinds, prune_namespaces):
    """(verb, api_version, kind, namespace) the apply and prune steps will need.

    Server-side apply is a PATCH that creates the object when it does not exist,
    so both verbs are needed; pruning lists by label and deletes, in the prune
    namespaces or (namespace None) across all namespaces.
    """
    needed = []
    for obj in objects:
        namespace = (obj.get("metadata") or {}).get("namespace")
        for verb in ("create", "patch"):
            needed.append((verb, obj["apiVersion"], obj["kind"], namespace))
    for api in prune_kinds:
        for namespace in prune_namespaces or [None]:
            for verb in ("list", "delete"):
                needed.append((verb, api["api_version"], api["kind"], namespace))
    return sorted(set(needed), key=lambda n: (n[0], n[1], n[2], n[3] or ""))


def denied_access_message(denied):
    """One sentence for the access reviews the API server answered with "no"."""
    parts = []
    for verb, resource, namespace in denied:
        parts.append("{0} {1} {2}".format(
            verb, resource, "in namespace " + namespace if namespace else "in all namespaces (cluster scope)"))
    return ("The Kubernetes credentials may not {0}: grant these in RBAC, or use credentials that have "
            "them. Nothing was changed.".format("; ".join(parts)))


def find_denied_access(resource_lookup, review, needed):
    """[(verb, resource, namespace)] of ``needed`` that ``review(attributes)`` denies.

    ``review`` posts a SelfSubjectAccessReview and returns its ``status.allowed``.
    A cluster-scoped kind is reviewed without a namespace.
    """
    denied = []
    seen = set()
    for verb, api_version, kind, namespace in needed:
        resource = resource_lookup(kind, api_version)
        if not resource.namespaced:
            namespace = None
        key = (verb, resource.group, resource.name, namespace)
        if key in seen:
            continue
        seen.add(key)
        attributes = {"verb": verb, "group": resource.group or "", "resource": resource.name}
        if namespace:
            attributes["namespace"] = namespace
        if not review(attributes):
            qualified = resource.name + ("." + resource.group if resource.group else "")
            denied.append((verb, qualified, namespace))
    return denied


def find_missing_namespaces(read_namespace, objects):
    """Namespaces of ``objects`` that do not exist (``read_namespace(name)`` raises a 404).

    A namespace the credentials may not read is not reported: the access review
    names what is refused, and applying tells the rest.
    """
    missing = []
    for namespace in sorted(set((o.get("metadata") or {}).get("namespace") for o in objects) - {None, ""}):
        try:
            read_namespace(namespace)
        except Exception as err:  # kubernetes.dynamic.exceptions.NotFoundError / ForbiddenError
            if getattr(err, "status", None) == 404:
                missing.append(namespace)
            elif getattr(err, "status", None) != 403:
                raise
    return missing


def missing_namespaces_message(missing):
    return ("The namespace{0} {1} {2} not exist: create {3} first (the collection never creates "
            "namespaces). Nothing was changed.".format(
                "s" if len(missing) > 1 else "", ", ".join(missing), "do" if len(missing) > 1 else "does",
                "them" if len(missing) > 1 else "it"))


def describe_object(obj):
    """``Kind namespace/name`` (``Kind name`` when cluster-scoped)."""
    metadata = obj.get("metadata") or {}
    where = "{0}/{1}".format(metadata["namespace"], metadata.get("name")) if metadata.get("namespace") \
        else metadata.get("name")
    return "{0} {1}".format(obj.get("kind"), where)


def _status_of(err):
    """The Kubernetes Status an apply failure carries, or None."""
    for candidate in (err, getattr(err, "__cause__", None)):
        body = getattr(candidate, "body", None)
        if body:
            try:
                return json.loads(body)
            except (TypeError, ValueError):
                return None
    return None


def apply_error_message(name, err, host=None):
    """One sentence for a failed server-side apply of the object ``name``."""
    status = _status_of(err)
    if status is None:  # no answer from the API server, or not a Kubernetes Status
        return "{0}: {1}".format(name, api_error_message(getattr(err, "__cause__", None) or err, host))
    causes = (status.get("details") or {}).get("causes") or []
    if status.get("reason") == "Conflict" and causes:
        managers = sorted(set(c.get("message", "").replace("conflict with ", "") for c in causes))
        fields = ", ".join(c.get("field", "?") for c in causes)
        return ("{0}: {1} {2} owned by the field manager {3}; set k8s_monitoring_force_conflicts: true to take "
                "{4} over, or leave {4} to that manager and change the inputs to match.".format(
                    name, fields, "is" if len(causes) == 1 else "are", " and ".join(managers),
                    "it" if len(causes) == 1 else "them"))
    return "{0}: the API server refused it ({1} {2}): {3}".format(
        name, status.get("code"), status.get("reason"), status.get("message"))
