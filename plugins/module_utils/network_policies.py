# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege NetworkPolicies for the monitoring stack.

One NetworkPolicy per component (a traffic path such as "Prometheus scrapes
node-exporter"), each switchable. A preset knows the pod labels, namespaces
and *container* ports of a distribution; NetworkPolicies match pod ports after
Service translation, so a Service port (the vendor text's 443 for the operator,
whose pod listens on 10250) lets nothing in.

``live_findings`` compares built policies with live pods (apply mode only):
ports the selected pods do not expose, selectors that match no pod,
host-network pods that policies cannot protect, and a CNI that may not enforce
NetworkPolicies at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import platforms, pushgateway, validation
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import owned
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import (
    ValidationError,
)

ROLE = "network_policies"
VAR = "network_policies_"
API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
NOTE_ANNOTATION = "prometheus.k8s-monitoring.io/note"

# The pods a policy protects or lets in, and the named ports each one has.
WORKLOAD_PORTS = {
    "prometheus": ("web", "reloader"),
    "alertmanager": ("web", "cluster"),
    "grafana": ("web",),
    "node_exporter": ("metrics",),
    "kube_state_metrics": ("metrics", "telemetry"),
    "pushgateway": ("web",),
    "operator": ("https",),
    "fluent_bit": ("metrics",),
    "ingress_controller": ("metrics", "http", "https", "webhook"),
}

# component -> (protected workload, rules, policy name); a rule is (sources, [(port key, protocol)]).
# sources: workload names, or "ui" (network_policies_ui_sources), "pushers",
# "api_server" (network_policies_api_server_cidrs), "anyone" (no `from`: every pod and address).
# A rule whose ports are all unset is left out.
COMPONENTS = {
    "node_exporter": ("node_exporter", [(["prometheus"], [("metrics", "TCP")])], "allow-prometheus-to-node-exporter"),
    "kube_state_metrics": ("kube_state_metrics", [(["prometheus"], [("metrics", "TCP")])],
                           "allow-prometheus-to-kube-state-metrics"),
    "pushgateway": ("pushgateway", [(["prometheus"], [("web", "TCP")])], "allow-prometheus-to-pushgateway"),
    "pushers": ("pushgateway", [(["pushers"], [("web", "TCP")])], "allow-pushers-to-pushgateway"),
    "alertmanager": ("alertmanager", [(["prometheus"], [("web", "TCP")])], "allow-prometheus-to-alertmanager"),
    "operator": ("operator", [(["prometheus", "api_server"], [("https", "TCP")])], "allow-prometheus-to-operator"),
    "prometheus_self": ("prometheus", [(["prometheus"], [("web", "TCP"), ("reloader", "TCP")])],
                        "allow-prometheus-self-monitoring"),
    "grafana_datasource": ("prometheus", [(["grafana"], [("web", "TCP")])], "allow-grafana-to-prometheus"),
    "prometheus_ui": ("prometheus", [(["ui"], [("web", "TCP")])], "allow-ui-to-prometheus"),
    "grafana_ui": ("grafana", [(["ui"], [("web", "TCP")])], "allow-ui-to-grafana"),
    "alertmanager_ui": ("alertmanager", [(["ui"], [("web", "TCP")])], "allow-ui-to-alertmanager"),
    "alertmanager_cluster": ("alertmanager", [(["alertmanager"], [("cluster", "TCP"), ("cluster", "UDP")])],
                             "allow-alertmanager-cluster"),
    # Fluent Bit tailing files receives no traffic, so isolating it takes nothing away; inputs that listen
    # (forward, http) are the user's to open with a policy of their own.
    "fluent_bit": ("fluent_bit", [(["prometheus"], [("metrics", "TCP")])], "allow-prometheus-to-fluent-bit"),
    # Selecting the controller isolates it, so the policy must keep its own traffic flowing:
    # clients on the serving ports and the API server on the admission webhook port.
    "ingress_controller_metrics": ("ingress_controller", [(["prometheus"], [("metrics", "TCP")]),
                                                          (["anyone"], [("http", "TCP"), ("https", "TCP")]),
                                                          (["api_server"], [("webhook", "TCP")])],
                                   "allow-prometheus-to-ingress-controller"),
    "default_deny": (None, [], "default-deny-ingress"),
}

# Said on the policy itself (NOTE_ANNOTATION), where a reader of the cluster finds it.
_HOST_NETWORK = "NetworkPolicies do not apply to pods with hostNetwork: true"
NOTES = {
    "node_exporter": _HOST_NETWORK + "; node-exporter usually runs so. Firewall the port on the nodes.",
    "fluent_bit": _HOST_NETWORK + ". Admits Prometheus on the metrics port only: Fluent Bit inputs that listen "
                                  "(forward, http) need a policy of their own.",
    "ingress_controller_metrics": _HOST_NETWORK + " (a common ingress-nginx setup). Admits Prometheus on the "
                                                  "metrics port, everyone on the serving ports and the API server "
                                                  "on the admission webhook port.",
}

# Workloads this collection scrapes but does not run: where they run per preset comes from
# platforms.py, shared with the monitors_and_alerts role. The policies open port numbers,
# which match however the pod names its port.
PLATFORM_WORKLOADS = {
    "fluent_bit": (platforms.FLUENT_BIT, {"metrics": platforms.FLUENT_BIT_PORT}),
    # The ingress-nginx chart's container ports: http 80, https 443, admission webhook 8443.
    "ingress_controller": (platforms.INGRESS_NGINX, {"metrics": platforms.INGRESS_NGINX_METRICS_PORT,
                                                     "http": 80, "https": 443, "webhook": 8443}),
}


def _platform_workloads(preset_name):
    """The preset's PLATFORM_WORKLOADS (None where the platform has no such workload)."""
    found = {}
    for name, (facts, ports) in PLATFORM_WORKLOADS.items():
        fact = facts[preset_name]
        found[name] = fact and {"namespace": fact["namespace"], "pod_labels": dict(fact["pod_labels"]),
                                "ports": dict(ports)}
    return found


_KPS_WORKLOADS = {
    "prometheus": {"pod_labels": {"app.kubernetes.io/name": "prometheus"},
                   "ports": {"web": 9090, "reloader": 8080}},
    "alertmanager": {"pod_labels": {"app.kubernetes.io/name": "alertmanager"},
                     "ports": {"web": 9093, "cluster": 9094}},
    "grafana": {"pod_labels": {"app.kubernetes.io/name": "grafana"}, "ports": {"web": 3000}},
    "node_exporter": {"pod_labels": {"app.kubernetes.io/name": "prometheus-node-exporter"},
                      "ports": {"metrics": 9100}},
    "kube_state_metrics": {"pod_labels": {"app.kubernetes.io/name": "kube-state-metrics"},
                           "ports": {"metrics": 8080, "telemetry": 8081}},
    "pushgateway": {"pod_labels": {"app.kubernetes.io/name": "prometheus-pushgateway"}, "ports": {"web": 9091}},
    # The chart's operator Service maps 443 to the pod's 10250 ("https").
    "operator": {"pod_labels": {"app": "kube-prometheus-stack-operator"}, "ports": {"https": 10250}},
}

_KPS_INGRESS = platforms.INGRESS_NGINX["kube-prometheus-stack"]

PRESETS = {
    "kube-prometheus-stack": {
        "namespace": "monitoring",
        "workloads": dict(_KPS_WORKLOADS, **_platform_workloads("kube-prometheus-stack")),
        # The ingress-nginx controller pods, the same ones the ingress_controller workload names.
        "ui_sources": [{"namespace": _KPS_INGRESS["namespace"], "pod_labels": dict(_KPS_INGRESS["pod_labels"])}],
        "components": ["node_exporter", "kube_state_metrics", "alertmanager", "operator", "prometheus_self",
                       "grafana_datasource", "prometheus_ui", "grafana_ui", "alertmanager_ui",
                       "alertmanager_cluster"],
        "operator_webhook": True,
    },
    # Verrazzano installs the kube-prometheus-stack chart (release prometheus-operator)
    # into verrazzano-monitoring; its Grafana lives in verrazzano-system behind the
    # Verrazzano auth proxy, which is the only way users reach the web UIs.
    "verrazzano": {
        "namespace": "verrazzano-monitoring",
        "workloads": dict(copy.deepcopy(_KPS_WORKLOADS), grafana={
            "namespace": "verrazzano-system", "pod_labels": {"app": "system-grafana"}, "ports": {"web": 3000}},
            **_platform_workloads("verrazzano")),
        "ui_sources": [{"namespace": "verrazzano-system", "pod_labels": {"app": "verrazzano-authproxy"}}],
        "components": ["node_exporter", "kube_state_metrics", "operator", "prometheus_self", "grafana_datasource",
                       "prometheus_ui"],
        "operator_webhook": True,
    },
    # Deckhouse puts kube-rbac-proxy in front of every component: the policy ports
    # are the proxy's container ports, not the upstream's loopback ports.
    "deckhouse": {
        "namespace": "d8-monitoring",
        "workloads": dict({
            "prometheus": {"pod_labels": {"app.kubernetes.io/name": "prometheus", "prometheus": "main"},
                           "ports": {"web": 9090, "reloader": None}},
            "alertmanager": {"pod_labels": {"app.kubernetes.io/name": "alertmanager"},
                             "ports": {"web": 9093, "cluster": 9094}},
            "grafana": {"pod_labels": {"app": "grafana-v10"}, "ports": {"web": 8443}},
            "node_exporter": {"pod_labels": {"app": "node-exporter"}, "ports": {"metrics": 4206}},
            # Self metrics are served on the same proxy port (/self/metrics).
            "kube_state_metrics": {"pod_labels": {"app": "kube-state-metrics"},
                                   "ports": {"metrics": 8080, "telemetry": None}},
            # One StatefulSet per instance, labelled app=<instance>; the namespace holds nothing else.
            "pushgateway": {"namespace": "kube-prometheus-pushgateway", "pod_labels": {}, "ports": {"web": 9091}},
            "operator": {"namespace": "d8-operator-prometheus", "pod_labels": {"app": "prometheus-operator"},
                         "ports": {"https": 8443}},
        }, **_platform_workloads("deckhouse")),
        # Why the platform has no such workload: the build refuses its component with this.
        "absent": {"fluent_bit": platforms.DECKHOUSE_NO_FLUENT_BIT,
                   "ingress_controller": platforms.DECKHOUSE_SCRAPES_INGRESS},
        "ui_sources": [{"namespace": "d8-ingress-nginx", "pod_labels": {"app": "controller"}}],
        "components": ["node_exporter", "kube_state_metrics", "operator", "prometheus_self", "grafana_datasource",
                       "prometheus_ui", "grafana_ui"],
        "operator_webhook": False,
    },
}

SOURCE_KEYS = ("namespace", "namespace_labels", "pod_labels", "cidr", "except")

# DaemonSet names of CNIs that enforce NetworkPolicies.
ENFORCING_CNI_DAEMONSETS = {
    "calico-node": "Calico", "canal": "Canal (Calico policy)", "cilium": "Cilium", "anetd": "GKE Dataplane V2 (Cilium)",
    "antrea-agent": "Antrea", "kube-router": "kube-router", "weave-net": "Weave Net", "kube-ovn-cni": "Kube-OVN",
    "azure-npm": "Azure Network Policy Manager",
}
ENFORCING_CNI_NAMESPACES = {"d8-cni-cilium": "Deckhouse cni-cilium", "calico-system": "Calico"}
NON_ENFORCING_CNI_DAEMONSETS = {"kube-flannel": "Flannel", "flannel": "Flannel", "kindnet": "kindnet"}

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    preset=dict(type="str", default="kube-prometheus-stack", choices=sorted(PRESETS)),
    namespace=dict(type="str", default=""),
    name_prefix=dict(type="str", default="k8s-monitoring-"),
    components=dict(type="dict", default={}),
    workloads=dict(type="dict", default={}),
    ui_sources=dict(type="list", elements="dict", default=[]),
    pushers=dict(type="list", elements="dict", default=[]),
    api_server_cidrs=dict(type="list", elements="str", default=[]),
    kube_state_metrics_telemetry=dict(type="bool", default=False),
    collection_pushgateway=dict(type="dict"),
    live_pods=dict(type="list", elements="dict"),
    live_daemonsets=dict(type="list", elements="dict"),
)


# ---------------------------------------------------------------- inputs

def _resolve_components(params, preset):
    variable = VAR + "components"
    overrides = params.get("components") or {}
    if not isinstance(overrides, dict):
        raise ValidationError(variable, "expected a mapping of component names to true/false", overrides)
    enabled = dict((name, name in preset["components"]) for name in COMPONENTS)
    for name, value in overrides.items():
        if name not in COMPONENTS:
            raise ValidationError("{0}.{1}".format(variable, name),
                                  "unknown component; expected one of {0}".format(", ".join(sorted(COMPONENTS))))
        if not isinstance(value, bool):
            raise ValidationError("{0}.{1}".format(variable, name), "expected true or false", value)
        enabled[name] = value
    return enabled


def _resolve_workloads(params, preset, namespace, bases=None):
    variable = VAR + "workloads"
    overrides = params.get("workloads") or {}
    if not isinstance(overrides, dict):
        raise ValidationError(variable, "expected a mapping of workload names to settings", overrides)
    workloads = {}
    for name, ports in WORKLOAD_PORTS.items():
        # What another role of the collection runs replaces the preset's guess; the user's override still wins.
        base = copy.deepcopy((bases or {}).get(name) or preset["workloads"][name])
        override = overrides.get(name) or {}
        where = "{0}.{1}".format(variable, name)
        if not isinstance(override, dict):
            raise ValidationError(where, "expected a mapping with namespace, pod_labels and/or ports", override)
        for key in override:
            if key not in ("namespace", "pod_labels", "ports"):
                raise ValidationError("{0}.{1}".format(where, key),
                                      "unknown setting; expected namespace, pod_labels or ports")
        if base is None:  # the platform has none (Deckhouse's Fluent Bit): only the user can say where theirs runs
            if not override:
                workloads[name] = None
                continue
            for key in ("namespace", "pod_labels"):
                if override.get(key) is None:
                    raise ValidationError("{0}.{1}".format(where, key), "{0}; to protect one of your own, give "
                                          "its namespace and pod_labels".format(
                                              preset.get("absent", {}).get(name, "the preset has no " + name)))
            base = {"ports": dict(PLATFORM_WORKLOADS[name][1])}
        ns = override.get("namespace") or base.get("namespace") or namespace
        validation.dns1123_label(where + ".namespace", ns)
        pod_labels = base["pod_labels"] if override.get("pod_labels") is None else override["pod_labels"]
        # An empty selector is allowed for protected pods only (every pod of a dedicated namespace).
        validation.labels(where + ".pod_labels", pod_labels, allow_empty=True)
        port_values = dict(base["ports"])
        port_overrides = override.get("ports") or {}
        if not isinstance(port_overrides, dict):
            raise ValidationError(where + ".ports", "expected a mapping of {0} to ports".format("/".join(ports)),
                                  port_overrides)
        for key, value in port_overrides.items():
            if key not in ports:
                raise ValidationError("{0}.ports.{1}".format(where, key),
                                      "unknown port; {0} has {1}".format(name, ", ".join(ports)))
            port_values[key] = value
        for key, value in port_values.items():
            if value is not None:
                port_values[key] = validation.port("{0}.ports.{1}".format(where, key), value)
        workloads[name] = {"namespace": ns, "pod_labels": dict(pod_labels), "ports": port_values}
    for name in overrides:
        if name not in WORKLOAD_PORTS:
            raise ValidationError("{0}.{1}".format(variable, name),
                                  "unknown workload; expected one of {0}".format(", ".join(sorted(WORKLOAD_PORTS))))
    return workloads


def collection_pushgateway_workload(params):
    """The Pushgateway pods the pushgateway role runs in this cluster, as one workload, or None.

    The role passes the pushgateway_* variables of the same host; the labels, port
    and namespace come from the pushgateway builder, so the policies select exactly
    the pods it makes (all its instances: the labels they share).
    """
    given = params.get("collection_pushgateway")
    if not given or not given.get("enabled") or (given.get("state") or "present") != "present":
        return None
    preset = given.get("preset") or pushgateway.ARGUMENT_SPEC["preset"]["default"]
    validation.one_of("pushgateway_preset", preset, pushgateway.PRESETS)
    names = pushgateway.instance_names(given.get("instances") or [])
    if not names:
        return None
    return {"namespace": pushgateway.namespace_of(preset, given.get("namespace")),
            "pod_labels": pushgateway.pod_selector(preset), "ports": {"web": pushgateway.PORT}}


def check_pushgateway_reachable(enabled, workloads, namespace, collection):
    """Fail when the policies would shut Prometheus or every pusher out of a Pushgateway."""
    target = workloads["pushgateway"]
    denied = enabled["default_deny"] and collection is not None and target["namespace"] == namespace
    if denied and not enabled["pushgateway"]:
        raise ValidationError(VAR + "components.pushgateway",
                              "the pushgateway role runs Pushgateways in {0}, where the default deny of this role "
                              "closes them to Prometheus; switch on component pushgateway".format(namespace))
    if (denied or enabled["pushgateway"]) and not enabled["pushers"]:
        raise ValidationError(VAR + "components.pushers",
                              "the Pushgateway pods in {0} admit Prometheus only, so no job could push; list the "
                              "jobs that push in network_policies_pushers and switch on component "
                              "pushers".format(target["namespace"]))


def _cidr(variable, value):
    network = validation.cidr(variable, value)
    if ipaddress.ip_network(network).prefixlen == 0:
        raise ValidationError(variable, "a /0 network allows every address; list the networks that need access",
                              value)
    return network


def validate_source(variable, source):
    """One user-given source -> a NetworkPolicyPeer. Never an allow-all."""
    if not isinstance(source, dict) or not source:
        raise ValidationError(variable, "expected a mapping with namespace, namespace_labels, pod_labels or cidr",
                              source)
    for key in source:
        if key not in SOURCE_KEYS:
            raise ValidationError("{0}.{1}".format(variable, key),
                                  "unknown key; expected one of {0}".format(", ".join(SOURCE_KEYS)))
    given = dict((k, v) for k, v in source.items() if v not in (None, "", [], {}))
    for key in ("pod_labels", "namespace_labels"):
        if key in source and source[key] == {}:
            raise ValidationError("{0}.{1}".format(variable, key),
                                  "an empty selector matches everything; give at least one label")
    if "cidr" in given:
        others = [k for k in given if k not in ("cidr", "except")]
        if others:
            raise ValidationError(variable, "cidr cannot be combined with {0}; use two sources".format(
                ", ".join(sorted(others))))
        network = _cidr(variable + ".cidr", given["cidr"])
        block = {"cidr": network}
        excepts = given.get("except") or []
        if not isinstance(excepts, list):
            raise ValidationError(variable + ".except", "expected a list of CIDRs", excepts)
        if excepts:
            block["except"] = []
            for index, value in enumerate(excepts):
                where = "{0}.except[{1}]".format(variable, index)
                inner = validation.cidr(where, value)
                outer_net, inner_net = ipaddress.ip_network(network), ipaddress.ip_network(inner)
                if inner_net.version != outer_net.version or not inner_net.subnet_of(outer_net):
                    raise ValidationError(where, "must lie inside {0}".format(network), value)
                block["except"].append(inner)
        return {"ipBlock": block}
    if "except" in given:
        raise ValidationError(variable + ".except", "only allowed together with cidr")
    if "namespace" in given and "namespace_labels" in given:
        raise ValidationError(variable, "give namespace or namespace_labels, not both")
    if not given:
        raise ValidationError(variable, "expected at least one of namespace, namespace_labels, pod_labels, cidr")
    peer = {}
    if "namespace" in given:
        validation.dns1123_label(variable + ".namespace", given["namespace"])
        peer["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: given["namespace"]}}
    elif "namespace_labels" in given:
        validation.labels(variable + ".namespace_labels", given["namespace_labels"])
        peer["namespaceSelector"] = {"matchLabels": dict(given["namespace_labels"])}
    if "pod_labels" in given:
        validation.labels(variable + ".pod_labels", given["pod_labels"])
        peer["podSelector"] = {"matchLabels": dict(given["pod_labels"])}
    return peer


def validate_sources(variable, sources):
    if not isinstance(sources, list) or not sources:
        raise ValidationError(variable, "expected a non-empty list of sources; an empty list would let nothing "
                                        "in, and this role never turns it into allow-all")
    return [validate_source("{0}[{1}]".format(variable, index), source) for index, source in enumerate(sources)]


def workload_peer(workload):
    peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: workload["namespace"]}}}
    if workload["pod_labels"]:
        peer["podSelector"] = {"matchLabels": dict(workload["pod_labels"])}
    return peer


def _policy(name, namespace, pod_labels, rules, annotations=None):
    metadata = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    spec = {"podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {}, "policyTypes": ["Ingress"]}
    if rules:
        spec["ingress"] = rules
    return owned({"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}, ROLE)


# ---------------------------------------------------------------- build

def with_defaults(params):
    """``params`` with the argument spec's defaults filled in (direct callers skip AnsibleModule)."""
    merged = dict((key, copy.deepcopy(spec.get("default"))) for key, spec in ARGUMENT_SPEC.items())
    merged.update((key, value) for key, value in params.items() if value is not None)
    return merged


def build(params, check_mode=False):
    params = with_defaults(params)
    preset_name = params["preset"]
    validation.one_of(VAR + "preset", preset_name, PRESETS)
    preset = PRESETS[preset_name]
    namespace = params.get("namespace") or preset["namespace"]
    validation.dns1123_label(VAR + "namespace", namespace)
    if params["state"] == "absent":
        # Removal needs no other input: pruning finds the role's objects by their ownership labels.
        return {"changed": False, "manifests": [], "required_apis": [],
                "prune_kinds": [{"api_version": API_VERSION, "kind": KIND}],
                "namespace": namespace, "pod_namespaces": [], "warnings": []}
    prefix = params["name_prefix"]
    if prefix:
        validation.dns1123_subdomain(VAR + "name_prefix", prefix.rstrip("-.") or prefix)

    enabled = _resolve_components(params, preset)
    collection = collection_pushgateway_workload(params)
    workloads = _resolve_workloads(params, preset, namespace, {"pushgateway": collection})
    check_pushgateway_reachable(enabled, workloads, namespace, collection)
    warnings = []

    ui_variable = VAR + "ui_sources"
    ui_given = params.get("ui_sources") or []
    pushers = params.get("pushers") or []
    cidrs = params.get("api_server_cidrs") or []
    api_server_peers = [{"ipBlock": {"cidr": _cidr("{0}api_server_cidrs[{1}]".format(VAR, i), c)}}
                        for i, c in enumerate(cidrs)]
    ui_needed = any(enabled[c] for c in ("prometheus_ui", "grafana_ui", "alertmanager_ui"))
    ui_peers = validate_sources(ui_variable, ui_given or preset["ui_sources"]) if ui_needed or ui_given else []
    pusher_peers = validate_sources(VAR + "pushers", pushers) if enabled["pushers"] or pushers else []
    if pushers and not enabled["pushers"]:
        warnings.append("network_policies_pushers is set but component 'pushers' is off; "
                        "set network_policies_components.pushers: true to let them push.")
    telemetry = params.get("kube_state_metrics_telemetry")
    if telemetry and enabled["kube_state_metrics"] and workloads["kube_state_metrics"]["ports"].get("telemetry") is None:
        raise ValidationError(VAR + "kube_state_metrics_telemetry",
                              "the {0} preset has no separate telemetry port; set "
                              "network_policies_workloads.kube_state_metrics.ports.telemetry".format(preset_name))
    if enabled["operator"] and preset["operator_webhook"] and not cidrs:
        warnings.append("network_policies_api_server_cidrs is empty: the operator policy lets only Prometheus in, "
                        "so the API server cannot call the operator's admission webhook on port {0}; list the "
                        "control-plane addresses, or disable the webhook.".format(
                            workloads["operator"]["ports"]["https"]))

    sources = {"ui": ui_peers, "pushers": pusher_peers, "api_server": api_server_peers}
    source_variables = {"ui": "ui_sources", "pushers": "pushers", "api_server": "api_server_cidrs"}
    manifests = []
    for component in COMPONENTS:
        if not enabled[component]:
            continue
        target_name, rule_specs, policy_name = COMPONENTS[component]
        name = validation.dns1123_subdomain(VAR + "name_prefix", prefix + policy_name)
        if target_name is None:  # default deny: selects every pod, admits nothing
            manifests.append(_policy(name, namespace, {}, []))
            continue
        target = workloads[target_name]
        if target is None:
            raise ValidationError(VAR + "components." + component, "{0}; describe your own in {1}workloads.{2} "
                                  "(namespace, pod_labels), or leave the component off".format(
                                      preset.get("absent", {}).get(target_name, "the {0} preset has no {1}".format(
                                          preset_name, target_name)), VAR, target_name))
        rules = []
        for source_names, port_keys in rule_specs:
            ports = [{"protocol": protocol, "port": target["ports"][key]}
                     for key, protocol in port_keys if target["ports"].get(key) is not None]
            if component == "kube_state_metrics" and telemetry:
                ports.append({"protocol": "TCP", "port": target["ports"]["telemetry"]})
            if not ports:
                continue
            if source_names == ["anyone"]:  # no `from`: every pod and every address
                rules.append({"ports": ports})
                continue
            peers = []
            for source in source_names:
                peers.extend(sources[source] if source in sources else [workload_peer(workloads[source])])
            if not peers:
                # An empty `from` would admit everyone, and leaving the rule out closes the port of pods the
                # policy isolates: for the ingress controller's admission webhook, every Ingress change fails.
                raise ValidationError(VAR + source_variables[source_names[0]], "component {0} isolates the {1} pods "
                                      "and opens port {2} to these sources only; with none it is closed (the API "
                                      "server could not call the admission webhook, and every Ingress change would "
                                      "be refused). List them, or set {3}workloads.{1}.ports.{4}: null if nothing "
                                      "listens there".format(component, target_name, ports[0]["port"], VAR,
                                                             port_keys[0][0]))
            rules.append({"from": peers, "ports": ports})
        if not rules:
            raise ValidationError("{0}workloads.{1}.ports".format(VAR, target_name),
                                  "component {0} needs a port; none is set".format(component))
        annotations = {NOTE_ANNOTATION: NOTES[component]} if component in NOTES else None
        manifests.append(_policy(name, target["namespace"], target["pod_labels"], rules, annotations))

    result = {
        "changed": False,
        "manifests": manifests,
        "required_apis": [{"api_version": API_VERSION, "kind": KIND, "source": "Kubernetes itself"}],
        "prune_kinds": [{"api_version": API_VERSION, "kind": KIND}],
        "namespace": namespace,
        "pod_namespaces": sorted(set(m["metadata"]["namespace"] for m in manifests)),
        "warnings": warnings,
    }
    if params.get("live_pods") is not None and result["manifests"]:
        result["warnings"].extend(live_findings(result["manifests"], params["live_pods"]))
    if params.get("live_daemonsets") is not None and result["manifests"]:
        cni_warning = cni_finding(params["live_daemonsets"])
        if cni_warning:
            result["warnings"].append(cni_warning)
    return result


# ---------------------------------------------------------------- live checks

def _selects(selector, labels):
    match = (selector or {}).get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in match.items())


def _pod_ports(pod):
    found = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            found.append((port.get("containerPort"), port.get("name"), port.get("protocol") or "TCP"))
    return found


def _describe_selector(policy):
    match = (policy["spec"].get("podSelector") or {}).get("matchLabels") or {}
    return ",".join("{0}={1}".format(k, v) for k, v in sorted(match.items())) or "every pod"


def live_findings(policies, pods):
    """Warnings about ``policies`` given the cluster's ``pods`` (dicts as the API returns them).

    - a policy that selects no running pod (wrong labels, or the component is not installed);
    - a policy port that none of the selected pods declares as a ``containerPort``
      (such a rule lets nothing in, like a Service port in place of the pod port);
    - selected pods with ``hostNetwork: true``, which NetworkPolicies do not cover.
    """
    findings = []
    by_namespace = {}
    for pod in pods:
        by_namespace.setdefault((pod.get("metadata") or {}).get("namespace"), []).append(pod)
    for policy in policies:
        if policy.get("kind") != KIND:
            continue
        namespace = policy["metadata"]["namespace"]
        name = "{0}/{1}".format(namespace, policy["metadata"]["name"])
        spec = policy["spec"]
        if not spec.get("ingress"):
            continue  # default deny: nothing to compare
        selected = [p for p in by_namespace.get(namespace, [])
                    if _selects(spec.get("podSelector"), (p.get("metadata") or {}).get("labels") or {})]
        if not selected:
            findings.append("NetworkPolicy {0} selects no running pod ({1} in {2}): check the pod labels in "
                            "network_policies_workloads, or switch the component off.".format(
                                name, _describe_selector(policy), namespace))
            continue
        declared = set()
        for pod in selected:
            declared.update(_pod_ports(pod))
        for rule in spec["ingress"]:
            for port in rule.get("ports") or []:
                value, protocol = port.get("port"), port.get("protocol", "TCP")
                if isinstance(value, int):
                    ok = any(number == value and proto == protocol for number, dummy, proto in declared)
                else:
                    ok = any(pname == value and proto == protocol for dummy, pname, proto in declared)
                if not ok:
                    exposed = sorted(set("{0}/{1}{2}".format(n, proto, " ({0})".format(pn) if pn else "")
                                         for n, pn, proto in declared if n is not None))
                    findings.append(
                        "NetworkPolicy {0} allows {1}/{2}, but the pods it selects ({3}) expose {4}: that rule "
                        "lets nothing in. Set the container port (not the Service port) in "
                        "network_policies_workloads.".format(
                            name, value, protocol, _describe_selector(policy), ", ".join(exposed) or "no ports"))
        host_network = sorted(p["metadata"]["name"] for p in selected if (p.get("spec") or {}).get("hostNetwork"))
        if host_network:
            findings.append(
                "NetworkPolicy {0} cannot protect {1} pod(s) running with hostNetwork: true ({2}): NetworkPolicies "
                "do not apply to host-network pods; restrict the port with a node firewall instead.".format(
                    name, len(host_network), ", ".join(host_network[:3]) + (", ..." if len(host_network) > 3 else "")))
    return findings


def cni_finding(daemonsets):
    """A warning unless a DaemonSet of a CNI known to enforce NetworkPolicies is present.

    ``daemonsets`` are DaemonSet objects or just their ``metadata``.
    """
    names = []
    for item in daemonsets:
        metadata = item.get("metadata", item) if isinstance(item, dict) else {}
        names.append((metadata.get("namespace") or "", metadata.get("name") or ""))
    for namespace, name in names:
        if name in ENFORCING_CNI_DAEMONSETS or namespace in ENFORCING_CNI_NAMESPACES:
            return None
    seen = sorted(set(label for dummy, n in names for key, label in NON_ENFORCING_CNI_DAEMONSETS.items()
                      if n == key or n.startswith(key + "-")))
    found = " Found {0}, which does not enforce them.".format(", ".join(seen)) if seen else ""
    return ("No DaemonSet of a CNI known to enforce NetworkPolicies (Calico, Cilium, Antrea, kube-router, "
            "Weave Net, Kube-OVN) was found: the policies may be stored but not enforced.{0}".format(found))
