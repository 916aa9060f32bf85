# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builder of the istio_metrics role.

Makes three objects, each optional:

- an Istio ``AuthorizationPolicy`` (ALLOW) that lets named clients (the OCNE /
  Verrazzano authenticating proxy by default through a preset) reach the Prometheus
  pods, one rule per client, principals built from namespace and service account;
- the ``envoy-stats`` ``PodMonitor`` that scrapes every sidecar's Envoy statistics;
- a ``ServiceMonitor`` for istiod's own metrics.

It also holds the pure selector logic behind the apply-mode warning "no Prometheus
would pick this PodMonitor", fed with the ``Prometheus`` resources the role read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import platforms, validation
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import owned
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import (
    ValidationError,
)

COMPONENT = "istio_metrics"
PREFIX = "istio_metrics_"

AUTHORIZATION_POLICY_API = {"api_version": "security.istio.io/v1", "kind": "AuthorizationPolicy"}
POD_MONITOR_API = {"api_version": "monitoring.coreos.com/v1", "kind": "PodMonitor"}
SERVICE_MONITOR_API = {"api_version": "monitoring.coreos.com/v1", "kind": "ServiceMonitor"}

DEFAULT_NAMESPACE = "monitoring"
ENVOY_STATS_PORT = 15090

# What a preset fills in when the user leaves the variable unset (None).
PRESETS = {
    "none": {},
    # OCNE / Verrazzano: Prometheus runs in verrazzano-monitoring behind the
    # authenticating proxy of verrazzano-system.
    "verrazzano": {
        "namespace": "verrazzano-monitoring",
        "clients": [{"namespace": "verrazzano-system", "service_account": "verrazzano-authproxy"}],
    },
}


# The OCNE text's envoy-stats relabelings, with one change: the address rewrite
# reads only __address__, so it also works for pods without a prometheus.io/port
# annotation and for IPv6 pod addresses ("[fd00::1]:15090").
ENVOY_RELABELINGS = [
    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_port_name"], "regex": ".*-envoy-prom"},
    {"action": "drop", "sourceLabels": ["__meta_kubernetes_pod_phase"], "regex": "Succeeded"},
    {"action": "replace", "sourceLabels": ["__address__"], "regex": "(.+?)(?::\\d+)?",
     "replacement": "${1}:%d" % ENVOY_STATS_PORT, "targetLabel": "__address__"},
    {"action": "labeldrop", "regex": "__meta_kubernetes_pod_label_(.+)"},
    {"action": "replace", "sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "namespace"},
    {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "pod_name"},
]

# Istio's own variant (samples/addons/extras/prometheus-operator.yaml): the
# istio-proxy container's merged metrics (application + Envoy) on the port named
# by the prometheus.io/port annotation. Istio's sample keeps on the
# annotationpresent label without a regex, which matches the empty string too and
# so keeps every pod; here the regex is "true".
ISTIO_MERGED_RELABELINGS = [
    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"], "regex": "istio-proxy"},
    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape"],
     "regex": "true"},
    {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_io_port",
                                           "__meta_kubernetes_pod_ip"],
     "regex": "(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})", "replacement": "[$2]:$1",
     "targetLabel": "__address__"},
    {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_io_port",
                                           "__meta_kubernetes_pod_ip"],
     "regex": "(\\d+);((([0-9]+?)(\\.|$)){4})", "replacement": "$2:$1", "targetLabel": "__address__"},
    {"action": "labeldrop", "regex": "__meta_kubernetes_pod_label_(.+)"},
    {"action": "replace", "sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "namespace"},
    {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "pod_name"},
]

VARIANTS = {"envoy": ENVOY_RELABELINGS, "istio_merged": ISTIO_MERGED_RELABELINGS}

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    preset=dict(type="str", default="none", choices=sorted(PRESETS)),
    namespace=dict(type="str"),
    authorization_policy_enabled=dict(type="bool", default=True),
    authorization_policy_name=dict(type="str", default="prometheus-allow-clients"),
    prometheus_selector=dict(type="dict", default={"app.kubernetes.io/name": "prometheus"}),
    clients=dict(type="list", elements="dict"),
    trust_domain=dict(type="str", default="cluster.local"),
    ports=dict(type="list", elements="int", default=[9090]),
    pod_monitor_enabled=dict(type="bool", default=True),
    pod_monitor_name=dict(type="str", default="envoy-stats"),
    pod_monitor_variant=dict(type="str", default="envoy", choices=sorted(VARIANTS)),
    release_label=dict(type="str", default=platforms.VERRAZZANO_MONITOR_SELECTOR["release"]),
    monitor_labels=dict(type="dict", default={}),
    scrape_interval=dict(type="str"),
    scrape_namespaces=dict(type="list", elements="str", default=[]),
    istiod_service_monitor_enabled=dict(type="bool", default=False),
    istiod_service_monitor_name=dict(type="str", default="istiod"),
    istiod_namespace=dict(type="str", default="istio-system"),
    prometheus_resources=dict(type="list", elements="dict", default=[]),
    namespace_labels=dict(type="dict"),
)


def _var(name):
    return PREFIX + name


def principal(trust_domain, namespace, service_account):
    """SPIFFE-style identity Istio matches in ``source.principals``."""
    return "{0}/ns/{1}/sa/{2}".format(trust_domain, namespace, service_account)


def resolve(params):
    """Parameters with the preset's values filled in where the user gave none."""
    preset = PRESETS[params.get("preset") or "none"]
    resolved = dict(params)
    for key, value in preset.items():
        if resolved.get(key) is None:
            resolved[key] = value
    if resolved.get("namespace") is None:
        resolved["namespace"] = DEFAULT_NAMESPACE
    return resolved


def validate_clients(clients):
    """Checked clients as ``[(namespace, service_account)]``; never a placeholder."""
    if clients is None or clients == []:
        raise ValidationError(
            _var("clients"),
            "give at least one client as {namespace, service_account} (the workload that "
            "calls Prometheus, e.g. an authenticating proxy), or set istio_metrics_preset: "
            "verrazzano for the OCNE / Verrazzano auth proxy; a policy without a real "
            "principal would match nothing")
    if not isinstance(clients, list):
        raise ValidationError(_var("clients"), "expected a list of {namespace, service_account}", clients)
    checked = []
    for index, client in enumerate(clients):
        where = "{0}[{1}]".format(_var("clients"), index)
        if not isinstance(client, dict):
            raise ValidationError(where, "expected a mapping {namespace, service_account}", client)
        unknown = sorted(set(client) - {"namespace", "service_account"})
        if unknown:
            raise ValidationError(where, "unknown key(s) {0}; expected namespace and service_account".format(
                ", ".join(unknown)))
        for key in ("namespace", "service_account"):
            if client.get(key) in (None, ""):
                raise ValidationError("{0}.{1}".format(where, key), "is required")
        namespace = validation.dns1123_label(where + ".namespace", client["namespace"])
        account = validation.dns1123_subdomain(where + ".service_account", client["service_account"])
        if (namespace, account) in checked:
            raise ValidationError(where, "duplicate client {0}/{1}".format(namespace, account))
        checked.append((namespace, account))
    return checked


def validate_ports(ports):
    validation.non_empty_list(_var("ports"), ports)
    checked = []
    for index, port in enumerate(ports):
        checked.append(validation.port_number("{0}[{1}]".format(_var("ports"), index), port))
    return checked


def monitor_labels(params):
    labels = dict(validation.labels(_var("monitor_labels"), params.get("monitor_labels") or {},
                                    allow_empty=True))
    release = params.get("release_label")
    if release:
        validation.label_value(_var("release_label"), release)
        if "release" in labels and labels["release"] != release:
            raise ValidationError(_var("monitor_labels"), "sets release differently from istio_metrics_release_label",
                                  labels["release"])
        labels["release"] = release
    return labels


def authorization_policy(params, clients, ports):
    port_strings = [str(p) for p in ports]
    rules = []
    for namespace, account in clients:
        rules.append({
            "from": [{"source": {
                "namespaces": [namespace],
                "principals": [principal(params["trust_domain"], namespace, account)],
            }}],
            "to": [{"operation": {"ports": port_strings}}],
        })
    return {
        "apiVersion": AUTHORIZATION_POLICY_API["api_version"],
        "kind": AUTHORIZATION_POLICY_API["kind"],
        "metadata": {"name": params["authorization_policy_name"], "namespace": params["namespace"]},
        "spec": {
            "action": "ALLOW",
            "selector": {"matchLabels": dict(params["prometheus_selector"])},
            "rules": rules,
        },
    }


def namespace_selector(namespaces):
    return {"matchNames": list(namespaces)} if namespaces else {"any": True}


def _monitor_metadata(name, namespace, labels):
    metadata = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return metadata


def pod_monitor(params, labels):
    variant = params["pod_monitor_variant"]
    endpoint = {"path": "/stats/prometheus", "enableHttp2": False,
                "relabelings": [dict(r) for r in VARIANTS[variant]]}
    if params.get("scrape_interval"):
        endpoint["interval"] = params["scrape_interval"]
    selector = {}
    if variant == "istio_merged":
        selector = {"matchExpressions": [{"key": "istio-prometheus-ignore", "operator": "DoesNotExist"}]}
    metadata = _monitor_metadata(params["pod_monitor_name"], params["namespace"], labels)
    return {
        "apiVersion": POD_MONITOR_API["api_version"],
        "kind": POD_MONITOR_API["kind"],
        "metadata": metadata,
        "spec": {
            "namespaceSelector": namespace_selector(params.get("scrape_namespaces")),
            "selector": selector,
            "podMetricsEndpoints": [endpoint],
        },
    }


def istiod_service_monitor(params, labels):
    endpoint = {"port": "http-monitoring"}
    if params.get("scrape_interval"):
        endpoint["interval"] = params["scrape_interval"]
    metadata = _monitor_metadata(params["istiod_service_monitor_name"], params["namespace"], labels)
    return {
        "apiVersion": SERVICE_MONITOR_API["api_version"],
        "kind": SERVICE_MONITOR_API["kind"],
        "metadata": metadata,
        "spec": {
            "jobLabel": "istio",
            "targetLabels": ["app"],
            "namespaceSelector": {"matchNames": [params["istiod_namespace"]]},
            "selector": {"matchExpressions": [{"key": "istio", "operator": "In", "values": ["pilot"]}]},
            "endpoints": [endpoint],
        },
    }


# --- Which Prometheus picks a monitor: Kubernetes LabelSelector semantics -------------


def selector_matches(selector, labels):
    """True when a LabelSelector (``matchLabels`` and ``matchExpressions``) selects ``labels``.

    An empty selector selects everything. ``None`` is the caller's business: for a
    Prometheus' monitor selector it means "nothing", for its namespace selector
    "only my own namespace".
    """
    labels = labels or {}
    for key, value in ((selector or {}).get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in (selector or {}).get("matchExpressions") or []:
        key = expression.get("key")
        operator = expression.get("operator")
        values = expression.get("values") or []
        if operator == "In":
            ok = key in labels and labels[key] in values
        elif operator == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif operator == "Exists":
            ok = key in labels
        elif operator == "DoesNotExist":
            ok = key not in labels
        else:
            return False  # the API server would have refused it; never claim a match
        if not ok:
            return False
    return True


SELECTOR_FIELDS = {
    "PodMonitor": ("podMonitorSelector", "podMonitorNamespaceSelector"),
    "ServiceMonitor": ("serviceMonitorSelector", "serviceMonitorNamespaceSelector"),
}


def _describe_selector(selector):
    if not selector:
        return "{}"
    parts = ["{0}={1}".format(k, v) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        values = expression.get("values") or ""
        parts.append("{0} {1} {2}".format(expression.get("key"), expression.get("operator"), values).strip())
    return ", ".join(parts)


def why_not_picked(prometheus, monitor, namespace_labels):
    """None when the ``Prometheus`` resource would select ``monitor``, else the reason."""
    spec = prometheus.get("spec") or {}
    meta = prometheus.get("metadata") or {}
    monitor_meta = monitor.get("metadata") or {}
    selector_field, namespace_field = SELECTOR_FIELDS[monitor["kind"]]
    if spec.get(selector_field) is None:
        return "its spec.{0} is unset, which selects no {1}s".format(selector_field, monitor["kind"])
    if not selector_matches(spec[selector_field], monitor_meta.get("labels")):
        return "its spec.{0} ({1}) does not match the labels {2}".format(
            selector_field, _describe_selector(spec[selector_field]),
            _describe_selector({"matchLabels": monitor_meta.get("labels") or {}}))
    namespace = monitor_meta.get("namespace")
    namespace_selector_value = spec.get(namespace_field)
    if namespace_selector_value is None:
        if namespace != meta.get("namespace"):
            return "its spec.{0} is unset, so it only reads {1}s from its own namespace {2}".format(
                namespace_field, monitor["kind"], meta.get("namespace"))
    elif not selector_matches(namespace_selector_value, namespace_labels):
        return "its spec.{0} ({1}) does not select namespace {2}".format(
            namespace_field, _describe_selector(namespace_selector_value), namespace)
    return None


def selector_warnings(prometheus_resources, monitors, namespace_labels):
    """Warnings for monitors that no readable ``Prometheus`` resource would pick.

    ``namespace_labels`` are the labels of the monitors' namespace (Kubernetes
    always sets ``kubernetes.io/metadata.name``). With no Prometheus resource there
    is nothing to compare with and no warning.
    """
    warnings = []
    if not prometheus_resources:
        return warnings
    for monitor in monitors:
        monitor_meta = monitor["metadata"]
        reasons = []
        pickers = []
        for prometheus in prometheus_resources:
            meta = prometheus.get("metadata") or {}
            name = "{0}/{1}".format(meta.get("namespace"), meta.get("name"))
            reason = why_not_picked(prometheus, monitor, namespace_labels)
            if reason is None:
                pickers.append(prometheus)
            else:
                reasons.append("Prometheus {0}: {1}".format(name, reason))
        if not pickers:
            warnings.append(
                "No Prometheus in the cluster would pick up {0} {1}/{2}, so its targets will never "
                "be scraped. {3}. Set istio_metrics_release_label / istio_metrics_monitor_labels "
                "(or istio_metrics_namespace) to what the Prometheus selects.".format(
                    monitor["kind"], monitor_meta["namespace"], monitor_meta["name"], "; ".join(reasons)))
            continue
        wide = monitor["spec"].get("namespaceSelector") != {"matchNames": [monitor_meta["namespace"]]}
        for prometheus in pickers:
            if wide and (prometheus.get("spec") or {}).get("ignoreNamespaceSelectors"):
                meta = prometheus["metadata"]
                warnings.append(
                    "Prometheus {0}/{1} has spec.ignoreNamespaceSelectors: true, so {2} {3}/{4} only "
                    "finds targets in its own namespace {3}, not in the namespaces it asks for.".format(
                        meta.get("namespace"), meta.get("name"), monitor["kind"],
                        monitor_meta["namespace"], monitor_meta["name"]))
    return warnings


# --- Entry point ---------------------------------------------------------------------


def _validate_common(params):
    validation.dns1123_label(_var("namespace"), params["namespace"])
    validation.dns1123_subdomain(_var("trust_domain"), params["trust_domain"])
    validation.dns1123_subdomain(_var("authorization_policy_name"), params["authorization_policy_name"])
    validation.dns1123_subdomain(_var("pod_monitor_name"), params["pod_monitor_name"])
    validation.dns1123_subdomain(_var("istiod_service_monitor_name"), params["istiod_service_monitor_name"])
    validation.dns1123_label(_var("istiod_namespace"), params["istiod_namespace"])
    validation.labels(_var("prometheus_selector"), params["prometheus_selector"])
    for index, namespace in enumerate(params.get("scrape_namespaces") or []):
        validation.dns1123_label("{0}[{1}]".format(_var("scrape_namespaces"), index), namespace)
    validation.duration(_var("scrape_interval"), params.get("scrape_interval"))


def build(params, check_mode=False):
    """Manifests, required APIs and prune kinds for the istio_metrics role."""
    params = resolve(params)
    prune_kinds = [dict(AUTHORIZATION_POLICY_API), dict(POD_MONITOR_API), dict(SERVICE_MONITOR_API)]
    result = {"manifests": [], "required_apis": [], "prune_kinds": prune_kinds,
              "namespace": params["namespace"], "warnings": []}
    if params.get("state") == "absent":
        return result  # removal needs no inputs: pruning finds the objects by their labels

    _validate_common(params)
    labels = monitor_labels(params)
    manifests = []
    if params["authorization_policy_enabled"]:
        clients = validate_clients(params.get("clients"))
        ports = validate_ports(params.get("ports"))
        manifests.append(authorization_policy(params, clients, ports))
        result["required_apis"].append(dict(AUTHORIZATION_POLICY_API, source="Istio (istio-base chart)"))
    monitors = []
    if params["pod_monitor_enabled"]:
        monitors.append(pod_monitor(params, labels))
    if params["istiod_service_monitor_enabled"]:
        monitors.append(istiod_service_monitor(params, labels))
    for api in (POD_MONITOR_API, SERVICE_MONITOR_API):
        if any(m["kind"] == api["kind"] for m in monitors):
            result["required_apis"].append(dict(api, source="prometheus-operator"))
    manifests.extend(monitors)
    if not manifests:
        result["warnings"].append(
            "istio_metrics: the AuthorizationPolicy, the PodMonitor and the istiod ServiceMonitor are all "
            "switched off; nothing is made and earlier objects of this role are removed.")

    result["manifests"] = [owned(m, COMPONENT) for m in manifests]

    namespace_labels = params.get("namespace_labels")
    if namespace_labels is not None:
        validation.labels("namespace_labels", namespace_labels, allow_empty=True)
    if namespace_labels is None:
        namespace_labels = {"kubernetes.io/metadata.name": params["namespace"]}
    owned_monitors = [m for m in result["manifests"] if m["kind"] in SELECTOR_FIELDS]
    result["warnings"].extend(selector_warnings(params.get("prometheus_resources") or [], owned_monitors,
                                                namespace_labels))
    return result
