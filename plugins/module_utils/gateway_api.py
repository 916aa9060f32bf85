# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gateway API objects (standard channel, v1) for a route to Prometheus.

Only what every Gateway API implementation understands: the HTTPRoute with the
read-only path list as matches, a ReferenceGrant when the route and the Service are
in different namespaces, and a BackendTLSPolicy for HTTPS to the Service. Basic
auth and source allowlists have no standard; each implementation adds its own
policy objects (envoy_gateway.py), so another one is one more such module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

GROUP = "gateway.networking.k8s.io"
HTTP_ROUTE_API = {"api_version": GROUP + "/v1", "kind": "HTTPRoute"}
REFERENCE_GRANT_API = {"api_version": GROUP + "/v1beta1", "kind": "ReferenceGrant"}
BACKEND_TLS_POLICY_API = {"api_version": GROUP + "/v1", "kind": "BackendTLSPolicy"}
# The Ingress path types and their HTTPRoute twins (PathPrefix matches whole path elements, as Prefix does).
PATH_TYPES = {"Exact": "Exact", "Prefix": "PathPrefix"}
# HTTPRoute limits (CRD): 64 matches per rule, fewer than 128 matches in a route.
MATCHES_PER_RULE = 64
MATCHES_PER_ROUTE = 127


def _object(api, name, namespace, spec):
    return {"apiVersion": api["api_version"], "kind": api["kind"],
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def http_route(name, namespace, gateway, hostname, service, paths, variable):
    """The route: ``paths`` are (path, Ingress path type) pairs, as the Ingress flavour routes them.

    ``gateway`` is {name, namespace, section_name}; ``service`` is {name, namespace, port}.
    Paths not listed are not routed, so the Gateway answers them with 404.
    """
    if len(paths) > MATCHES_PER_ROUTE:
        raise ValidationError(variable, "an HTTPRoute holds fewer than 128 path matches; {0} paths are too "
                                        "many".format(len(paths)))
    parent = {"group": GROUP, "kind": "Gateway", "name": gateway["name"]}
    if gateway.get("namespace") and gateway["namespace"] != namespace:
        parent["namespace"] = gateway["namespace"]
    if gateway.get("section_name"):
        parent["sectionName"] = gateway["section_name"]
    backend = {"name": service["name"], "port": service["port"]}
    if service["namespace"] != namespace:
        backend["namespace"] = service["namespace"]
    matches = [{"path": {"type": PATH_TYPES[path_type], "value": path}} for path, path_type in paths]
    rules = [{"matches": matches[start:start + MATCHES_PER_RULE], "backendRefs": [dict(backend)]}
             for start in range(0, len(matches), MATCHES_PER_RULE)]
    return _object(HTTP_ROUTE_API, name, namespace,
                   {"parentRefs": [parent], "hostnames": [hostname], "rules": rules})


def reference_grant(name, namespace, from_namespace, froms, tos):
    """Lets objects of ``froms`` ((group, kind) in ``from_namespace``) reference ``tos`` ((group, kind, name)) here."""
    return _object(REFERENCE_GRANT_API, name, namespace, {
        "from": [{"group": group, "kind": kind, "namespace": from_namespace} for group, kind in froms],
        "to": [{"group": group, "kind": kind, "name": target} for group, kind, target in tos],
    })


def backend_tls_policy(name, service, hostname, ca_config_map=None):
    """HTTPS from the Gateway to the Service: verified against ``ca_config_map`` (key ca.crt) or the system CAs."""
    validation = {"hostname": hostname}
    if ca_config_map:
        validation["caCertificateRefs"] = [{"group": "", "kind": "ConfigMap", "name": ca_config_map}]
    else:
        validation["wellKnownCACertificates"] = "System"
    return _object(BACKEND_TLS_POLICY_API, name, service["namespace"], {
        "targetRefs": [{"group": "", "kind": "Service", "name": service["name"]}],
        "validation": validation,
    })


def ca_config_map(name, namespace, ca_pem):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": {"ca.crt": ca_pem}}
