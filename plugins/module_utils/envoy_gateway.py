# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Envoy Gateway's part of a protected route: basic auth and the source allowlist.

One ``SecurityPolicy`` (gateway.envoyproxy.io/v1alpha1) attached to the HTTPRoute:
``basicAuth.users`` names a Secret whose ``.htpasswd`` key holds ``{SHA}`` lines
(the only hash Envoy's basic auth verifies; htpasswd_users' ``envoy-htpasswd`` format), and ``authorization`` allows the
allowlist's ``clientCIDRs`` and denies everything else.

The backend client certificate is not here either: it is the Gateway's identity
towards every backend, set by the Gateway's owner (Gateway API's
``spec.tls.backend.clientCertificateRef``; on Envoy Gateway releases before that
field, the ``EnvoyProxy`` ``spec.backendTLS.clientCertificateRef``). An Envoy Gateway
``Backend`` per route could carry one, but it needs the Backend API switched on and
replaces the Service reference, so the route would no longer be plain Gateway API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

GROUP = "gateway.envoyproxy.io"
SECURITY_POLICY_API = {"api_version": GROUP + "/v1alpha1", "kind": "SecurityPolicy"}


def security_policy(name, namespace, route_name, auth_secret_name, auth_secret_namespace, allowlist):
    """Basic auth for the route; with an allowlist, only those source networks are allowed."""
    users = {"group": "", "kind": "Secret", "name": auth_secret_name}
    if auth_secret_namespace != namespace:
        users["namespace"] = auth_secret_namespace
    spec = {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route_name}],
        "basicAuth": {"users": users},
    }
    if allowlist:
        spec["authorization"] = {
            "defaultAction": "Deny",
            "rules": [{"name": "allowlist", "action": "Allow", "principal": {"clientCIDRs": list(allowlist)}}],
        }
    return {"apiVersion": SECURITY_POLICY_API["api_version"], "kind": SECURITY_POLICY_API["kind"],
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}
