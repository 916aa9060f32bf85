# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builder for the prometheus_external_access role.

An ingress-nginx Ingress in front of the Prometheus API (TLS, basic auth, source
allowlist, HTTPS to the backend with a client certificate), the Secrets it needs
besides the htpasswd one (that one comes from ``htpasswd_users``), and the two
documents for the outside side: a Grafana data source provisioning file and a
federation scrape job. Pure functions; nothing here talks to a cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import re

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import (
    envoy_gateway, gateway_api, ownership, validation,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

COMPONENT = "prometheus_external_access"
PREFIX = "prometheus_external_access_"
ANNOTATION = "nginx.ingress.kubernetes.io/"
PLATFORMS = ("deckhouse", "kube_prometheus_stack", "generic")
CLIENT_CERT_MODES = ("controller_files", "secret", "none")
# How the API is exposed: an ingress-nginx Ingress, or a Gateway API HTTPRoute with the
# implementation's own auth policy (a Traefik or NGINX Gateway Fabric flavour would be
# one more entry here and one more module beside envoy_gateway.py).
FLAVOURS = ("ingress", "envoy_gateway")
PROXY_SSL_KEYS = ("tls.crt", "tls.key", "ca.crt")
JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")

PRESETS = {
    "deckhouse": {
        "namespace": "d8-monitoring",
        "service_name": "prometheus",
        "service_port": "https",
        "backend_protocol": "HTTPS",
        "client_cert_mode": "controller_files",
    },
    "kube_prometheus_stack": {
        "namespace": "monitoring",
        "service_name": "kube-prometheus-stack-prometheus",
        "service_port": 9090,
        "backend_protocol": "HTTP",
        "client_cert_mode": "none",
    },
    "generic": {
        "backend_protocol": "HTTP",
        "client_cert_mode": "none",
    },
}

# Read-only surface (issue 7): what Grafana's Prometheus data source and a federating
# Prometheus call. Everything else - admin API, remote-write receiver, /-/reload,
# /-/quit - has no Ingress path and gets the controller's default backend (404).
READ_ONLY_PATHS = (
    ("/api/v1/query", "Exact"),
    ("/api/v1/query_range", "Exact"),
    ("/api/v1/query_exemplars", "Exact"),
    ("/api/v1/series", "Exact"),
    ("/api/v1/labels", "Exact"),
    ("/api/v1/label", "Prefix"),  # /api/v1/label/<name>/values
    ("/api/v1/metadata", "Exact"),
    ("/api/v1/status/buildinfo", "Exact"),
    ("/federate", "Exact"),
)
READ_ONLY_UI_PATHS = (
    ("/graph", "Prefix"),
    ("/static", "Prefix"),
    ("/api/v1/status", "Prefix"),
    ("/api/v1/targets", "Exact"),
    ("/api/v1/rules", "Exact"),
    ("/api/v1/alerts", "Exact"),
    ("/manifest.json", "Exact"),
    ("/favicon.ico", "Exact"),
)

# Prometheus endpoints that write, delete or stop: never routed in read-only mode.
WRITE_PATHS = ("/api/v1/admin", "/-/reload", "/-/quit", "/api/v1/write", "/api/v1/otlp")

WARN_BASIC_AUTH = (
    "prometheus_external_access: basic auth alone is weak protection for the Prometheus API; keep the source "
    "allowlist as narrow as possible, use long generated passwords and rotate them (vendor documentation)."
)
WARN_SYSTEM_NAMESPACE = (
    "prometheus_external_access: the Ingress lives in the system namespace {0}; Deckhouse does not guarantee "
    "objects it does not manage there (an update may remove them). Re-run this role after Deckhouse upgrades."
)
WARN_ANY_SOURCE = (
    "prometheus_external_access: the source allowlist is empty or covers every address; the Prometheus API is "
    "reachable from anywhere (prometheus_external_access_allow_any_source is true)."
)


def resolve(params):
    """Preset values under explicitly given ones; returns a new dict."""
    platform = validation.one_of(PREFIX + "platform", params.get("platform") or "generic", PLATFORMS)
    resolved = dict(PRESETS[platform])
    for key, value in params.items():
        if value is not None:
            resolved[key] = value
    resolved["platform"] = platform
    return resolved


def _require(params, name):
    value = params.get(name)
    if value is None or value == "":
        raise ValidationError(PREFIX + name, "required with platform {0}".format(params["platform"]))
    return value


def _read_file(variable, path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as err:
        raise ValidationError(variable, "cannot read the file: {0}".format(err.strerror), path)


def _label_kubectl(namespace, name):
    return "kubectl -n {0} label secret {1} {2}".format(
        namespace, name, " ".join("{0}={1}".format(k, v) for k, v in sorted(ownership.ownership_labels(COMPONENT).items())))


# What Grafana's provisioning expands: $__env{VAR}, $__file{path}, $__vault{...}, $VAR and ${VAR}.
GRAFANA_REFERENCE = re.compile(r"^(\$__(env|file|vault)\{[^{}\n]+\}|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)$")


def covers_every_address(cidrs):
    """Whether the networks together cover all of IPv4 or all of IPv6 (0.0.0.0/0, ::/0, or halves of them)."""
    networks = [ipaddress.ip_network(c) for c in cidrs]
    for version, everything in ((4, ipaddress.ip_network("0.0.0.0/0")), (6, ipaddress.ip_network("::/0"))):
        if everything in ipaddress.collapse_addresses(n for n in networks if n.version == version):
            return True
    return False


def ingress_paths(params):
    if not params["read_only"]:
        return [("/", "Prefix")]
    paths = list(READ_ONLY_PATHS)
    if params.get("read_only_ui"):
        paths.extend(READ_ONLY_UI_PATHS)
    for index, path in enumerate(params.get("read_only_extra_paths") or []):
        variable = "{0}read_only_extra_paths[{1}]".format(PREFIX, index)
        if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in " \t\n{};#?%\\"):
            raise ValidationError(variable, "expected a URL path starting with '/'", path)
        segments = path.split("/")[1:]
        if "" in segments[:-1] or "." in segments or ".." in segments:
            raise ValidationError(variable, "expected a normalised path: no '//', '.' or '..' segments "
                                            "(nginx resolves them before matching)", path)
        if any(path == admin or path.startswith(admin.rstrip("/") + "/") for admin in WRITE_PATHS):
            raise ValidationError(variable, "{0} changes or stops Prometheus; read_only routes only paths that "
                                            "read. Set prometheus_external_access_read_only: false to expose the "
                                            "whole API".format(path), path)
        paths.append((path, "Exact"))
    seen, unique = set(), []
    for path in paths:
        if path[0] not in seen:
            seen.add(path[0])
            unique.append(path)
    return unique


def controller_snippet(params):
    """The vendor's configuration-snippet: the controller's own client certificate files."""
    return (
        "proxy_ssl_certificate {0};\n"
        "proxy_ssl_certificate_key {1};\n"
        "proxy_ssl_protocols TLSv1.2 TLSv1.3;\n"
        "proxy_ssl_session_reuse on;\n"
    ).format(params["controller_client_cert_path"], params["controller_client_key_path"])


def _validate_file_path(variable, value):
    if not isinstance(value, str) or not value.startswith("/") or any(c in value for c in " \t\n;{}'\"$"):
        raise ValidationError(variable, "expected an absolute path without spaces, quotes, ';', '{', '}' or '$'", value)
    return value


def build_ingress(params, annotations):
    port = params["service_port"]
    backend_port = {"number": port} if isinstance(port, int) else {"name": port}
    paths = [
        {"path": path, "pathType": path_type,
         "backend": {"service": {"name": params["service_name"], "port": backend_port}}}
        for path, path_type in ingress_paths(params)
    ]
    spec = {
        "tls": [{"hosts": [params["host"]], "secretName": params["tls_secret_name"]}],
        "rules": [{"host": params["host"], "http": {"paths": paths}}],
    }
    if params.get("ingress_class"):
        spec = dict([("ingressClassName", params["ingress_class"])] + list(spec.items()))
    manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": params["ingress_name"], "namespace": params["namespace"],
                     "annotations": annotations},
        "spec": spec,
    }
    return ownership.owned(manifest, COMPONENT)


def _secret(name, namespace, data, secret_type="Opaque"):
    return ownership.secret(name, namespace, data, COMPONENT, secret_type)


def tls_secret(params, render_mode, warnings):
    """The Ingress TLS Secret when a cert/key pair is given; None when an existing Secret is used."""
    cert_file, key_file = params.get("tls_cert_file"), params.get("tls_key_file")
    if not cert_file and not key_file:
        return None
    if not cert_file or not key_file:
        missing = "tls_cert_file" if not cert_file else "tls_key_file"
        raise ValidationError(PREFIX + missing, "give both tls_cert_file and tls_key_file, or neither "
                                                "to use the existing Secret tls_secret_name")
    if render_mode:
        warnings.append(
            "prometheus_external_access: render mode does not write private keys; the TLS Secret {0}/{1} is not "
            "rendered. Create it with: kubectl -n {0} create secret tls {1} --cert={2} --key={3} && {4}".format(
                params["namespace"], params["tls_secret_name"], cert_file, key_file,
                _label_kubectl(params["namespace"], params["tls_secret_name"])))
        return None
    cert = _read_file(PREFIX + "tls_cert_file", cert_file)
    key = _read_file(PREFIX + "tls_key_file", key_file)
    if b"-----BEGIN CERTIFICATE-----" not in cert:
        raise ValidationError(PREFIX + "tls_cert_file", "expected a PEM certificate", cert_file)
    if b"PRIVATE KEY-----" not in key:
        raise ValidationError(PREFIX + "tls_key_file", "expected a PEM private key", key_file)
    return _secret(params["tls_secret_name"], params["namespace"], {"tls.crt": cert, "tls.key": key},
                   "kubernetes.io/tls")


def proxy_ssl_secret(params, render_mode, warnings):
    """For client_cert_mode=secret: check the named Secret's keys or assemble it (Deckhouse)."""
    name = params["proxy_ssl_secret_name"]
    namespace = params["namespace"]
    source = params.get("proxy_ssl_source")
    if params.get("proxy_ssl_secret_create"):
        if params["platform"] != "deckhouse" and not source:
            raise ValidationError(PREFIX + "proxy_ssl_secret_create", "assembling the proxy-ssl Secret from the "
                                  "controller's client certificate is only possible on platform deckhouse")
        if render_mode:
            controller_secret = "ingress-nginx-{0}-auth-tls".format(params["deckhouse_controller"])
            warnings.append(
                "prometheus_external_access: render mode does not write private keys; the proxy-ssl Secret {0}/{1} "
                "is not rendered. Create it from the controller's client certificate with: "
                "kubectl -n d8-ingress-nginx get secret {2} -o jsonpath='{{.data.client\\.crt}}' | base64 -d > client.crt; "
                "kubectl -n d8-ingress-nginx get secret {2} -o jsonpath='{{.data.client\\.key}}' | base64 -d > client.key; "
                "kubectl -n {0} create secret generic {1} --from-file=tls.crt=client.crt --from-file=tls.key=client.key "
                "--from-file=ca.crt=<the CA of the Prometheus serving certificate> && {3}; rm client.key".format(
                    namespace, name, controller_secret, _label_kubectl(namespace, name)))
            return None
        if not source:
            raise ValidationError(PREFIX + "proxy_ssl_source", "the controller's client certificate was not read "
                                  "(apply mode reads it from d8-ingress-nginx)")
        data = {}
        for key, candidates in (("tls.crt", ("tls.crt", "client.crt")), ("tls.key", ("tls.key", "client.key")),
                                ("ca.crt", ("ca.crt",))):
            for candidate in candidates:
                if source.get(candidate):
                    data[key] = base64.b64decode(source[candidate])
                    break
        if "ca.crt" not in data and params.get("backend_ca_file"):
            data["ca.crt"] = _read_file(PREFIX + "backend_ca_file", params["backend_ca_file"])
        missing = [k for k in PROXY_SSL_KEYS if k not in data]
        if missing:
            raise ValidationError(PREFIX + "proxy_ssl_source", "the client certificate Secret lacks {0}; without "
                                  "ca.crt ingress-nginx silently sends no client certificate (set "
                                  "prometheus_external_access_backend_ca_file)".format(", ".join(missing)))
        return _secret(name, namespace, data)
    keys = params.get("proxy_ssl_secret_keys")
    if keys is not None and not keys:
        raise ValidationError(PREFIX + "proxy_ssl_secret_name", "Secret {0}/{1} was not found or is empty; create it "
                              "with tls.crt, tls.key and ca.crt, or set prometheus_external_access_proxy_ssl_secret_create "
                              "on Deckhouse".format(namespace, name))
    if keys is not None:
        missing = [k for k in PROXY_SSL_KEYS if k not in keys]
        if missing:
            raise ValidationError(PREFIX + "proxy_ssl_secret_name", "Secret {0}/{1} lacks {2}; ingress-nginx needs "
                                  "tls.crt, tls.key and ca.crt, and without ca.crt it silently sends no client "
                                  "certificate".format(namespace, name, ", ".join(missing)))
    else:
        warnings.append("prometheus_external_access: Secret {0}/{1} was not checked (render mode); it must hold "
                        "tls.crt, tls.key and ca.crt".format(namespace, name))
    return None


def annotations_for(params, warnings):
    annotations = {
        ANNOTATION + "backend-protocol": params["backend_protocol"],
        ANNOTATION + "auth-type": "basic",
        ANNOTATION + "auth-secret": params["auth_secret_name"],
        ANNOTATION + "auth-secret-type": params["auth_secret_type"],
        ANNOTATION + "auth-realm": params["auth_realm"],
    }
    if not params["read_only"] or params.get("read_only_ui"):
        annotations[ANNOTATION + "app-root"] = params["app_root"]
    if params["allowlist"]:
        annotations[ANNOTATION + "allowlist-source-range"] = ",".join(params["allowlist"])
    mode = params["client_cert_mode"]
    if mode == "controller_files":
        annotations[ANNOTATION + "configuration-snippet"] = controller_snippet(params)
    elif mode == "secret":
        annotations[ANNOTATION + "proxy-ssl-secret"] = "{0}/{1}".format(
            params["namespace"], params["proxy_ssl_secret_name"])
        annotations[ANNOTATION + "proxy-ssl-verify"] = "on" if params["proxy_ssl_verify"] else "off"
        annotations[ANNOTATION + "proxy-ssl-protocols"] = "TLSv1.2 TLSv1.3"
        if params.get("proxy_ssl_name"):
            annotations[ANNOTATION + "proxy-ssl-name"] = params["proxy_ssl_name"]
            annotations[ANNOTATION + "proxy-ssl-server-name"] = "on"
    return annotations


def validate(params):
    validation.hostname(PREFIX + "host", _require(params, "host"))
    validation.dns1123_label(PREFIX + "namespace", _require(params, "namespace"))
    validation.dns1123_label(PREFIX + "service_name", _require(params, "service_name"))
    params["service_port"] = validation.port(PREFIX + "service_port", _require(params, "service_port"))
    validation.dns1123_subdomain(PREFIX + "ingress_name", params["ingress_name"])
    validation.dns1123_subdomain(PREFIX + "auth_secret_name", params["auth_secret_name"])
    params["tls_secret_name"] = params.get("tls_secret_name") or params["ingress_name"] + "-tls"
    validation.dns1123_subdomain(PREFIX + "tls_secret_name", params["tls_secret_name"])
    if params.get("ingress_class"):
        validation.dns1123_subdomain(PREFIX + "ingress_class", params["ingress_class"])
    # Checked with either flavour, so a typo is named even before the flavour is switched.
    for name, check in (("gateway_name", validation.dns1123_subdomain), ("gateway_namespace", validation.dns1123_label),
                        ("gateway_section_name", validation.dns1123_subdomain),
                        ("route_namespace", validation.dns1123_label)):
        if params.get(name):
            check(PREFIX + name, params[name])
    validation.one_of(PREFIX + "backend_protocol", params["backend_protocol"], ("HTTP", "HTTPS", "GRPC", "GRPCS"))
    validation.one_of(PREFIX + "client_cert_mode", params["client_cert_mode"], CLIENT_CERT_MODES)
    validation.one_of(PREFIX + "auth_secret_type", params["auth_secret_type"], ("auth-file", "auth-map"))
    realm = params["auth_realm"]
    if not isinstance(realm, str) or not realm or any(c in realm for c in "\"\n\r\\$"):
        raise ValidationError(PREFIX + "auth_realm", "expected a non-empty text without quotes, backslashes, '$' "
                                                     "(nginx reads it as a variable) or line breaks", realm)
    app_root = params["app_root"]
    if not isinstance(app_root, str) or not app_root.startswith("/") or any(c in app_root for c in " \t\n;{}"):
        raise ValidationError(PREFIX + "app_root", "expected a URL path starting with '/'", app_root)
    allowlist = params.get("allowlist") or []
    params["allowlist"] = [validation.cidr("{0}allowlist[{1}]".format(PREFIX, i), c) for i, c in enumerate(allowlist)]
    if not params["allowlist"] and not params.get("allow_any_source"):
        raise ValidationError(PREFIX + "allowlist", "give the source CIDRs allowed to reach the Prometheus API "
                                                    "(for example your Grafana's egress address), or set "
                                                    "prometheus_external_access_allow_any_source: true")
    if covers_every_address(params["allowlist"]) and not params.get("allow_any_source"):
        raise ValidationError(PREFIX + "allowlist", "these networks cover every IPv4 or IPv6 address, which "
                                                    "exposes the Prometheus API to the world; narrow them, or set "
                                                    "prometheus_external_access_allow_any_source: true if that is "
                                                    "meant", params["allowlist"])
    for name in ("grafana_username", "federation_username"):
        validation.basic_auth_username(PREFIX + name, params.get(name))
    reference = params.get("grafana_password_reference")
    if not isinstance(reference, str) or not GRAFANA_REFERENCE.match(reference):
        raise ValidationError(PREFIX + "grafana_password_reference",
                              "expected a reference Grafana resolves when it reads the file, such as "
                              "$__env{PROMETHEUS_EXTERNAL_ACCESS_PASSWORD} or $__file{/run/secrets/prometheus}; a "
                              "literal password would be written in plain text into the data-source file",
                              show_value=False)
    mode = params["client_cert_mode"]
    if mode != "none" and params["backend_protocol"] != "HTTPS":
        raise ValidationError(PREFIX + "client_cert_mode", "a backend client certificate needs "
                                                           "backend_protocol HTTPS", mode)
    if mode == "controller_files":
        if params["platform"] != "deckhouse" and not params.get("allow_configuration_snippet"):
            raise ValidationError(PREFIX + "client_cert_mode", "controller_files uses a configuration-snippet, "
                                  "which stock ingress-nginx >= 1.12 rejects (annotations-risk-level Critical); "
                                  "use client_cert_mode: secret, or set "
                                  "prometheus_external_access_allow_configuration_snippet: true if your "
                                  "controller allows snippets", mode)
        _validate_file_path(PREFIX + "controller_client_cert_path", params["controller_client_cert_path"])
        _validate_file_path(PREFIX + "controller_client_key_path", params["controller_client_key_path"])
    validation.dns1123_subdomain(PREFIX + "proxy_ssl_secret_name", _require(params, "proxy_ssl_secret_name"))
    if params.get("proxy_ssl_name"):
        validation.hostname(PREFIX + "proxy_ssl_name", params["proxy_ssl_name"])
    validation.dns1123_label(PREFIX + "deckhouse_controller", params["deckhouse_controller"])
    validation.duration(PREFIX + "federation_scrape_interval", params.get("federation_scrape_interval"))
    for name in ("grafana_url", "probe_url"):
        if params.get(name) is not None:
            validation.http_url(PREFIX + name, params[name])
    for name in ("probe_timeout", "grafana_org_id"):
        value = params.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValidationError(PREFIX + name, "expected a positive whole number", value)
    if params.get("federation_job_name") is not None and not JOB_NAME.match(str(params["federation_job_name"])):
        raise ValidationError(PREFIX + "federation_job_name", "expected letters, digits, '_', '.', ':' and '-', "
                                                              "starting with a letter or digit",
                              params["federation_job_name"])


def grafana_datasource(params):
    """Grafana provisioning document (apiVersion 1); the password is a reference, never the value."""
    source = {
        "name": params["grafana_datasource_name"] or "Prometheus {0}".format(params["host"]),
        "type": "prometheus",
        "access": "proxy",
        "url": "https://{0}".format(params["host"]),
        "basicAuth": True,
        "basicAuthUser": params["grafana_username"],
        "isDefault": False,
        "editable": False,
        "jsonData": {"httpMethod": "POST", "timeInterval": "30s"},
        "secureJsonData": {"basicAuthPassword": params["grafana_password_reference"]},
    }
    if params.get("grafana_ca_reference"):
        source["jsonData"]["tlsAuthWithCACert"] = True
        source["secureJsonData"]["tlsCACert"] = params["grafana_ca_reference"]
    return {"apiVersion": 1, "datasources": [source]}


def federation_job(params):
    """A scrape job for the federating Prometheus; the password comes from a file on that host."""
    matches = params.get("federation_match") or []
    if not matches:
        raise ValidationError(PREFIX + "federation_match", "expected at least one series selector, "
                                                           "for example '{job=\"node\"}'")
    for index, selector in enumerate(matches):
        validation.series_selector("{0}federation_match[{1}]".format(PREFIX, index), selector)
    job = {
        "job_name": params["federation_job_name"] or "federate-{0}".format(params["host"]),
        "honor_labels": True,
        "metrics_path": "/federate",
        "scheme": "https",
        "scrape_interval": params["federation_scrape_interval"],
        "params": {"match[]": list(matches)},
        "basic_auth": {"username": params["federation_username"],
                       "password_file": params["federation_password_file"]},
        "tls_config": {"server_name": params["host"]},
        "static_configs": [{"targets": ["{0}:443".format(params["host"])]}],
    }
    if params.get("federation_ca_file"):
        job["tls_config"]["ca_file"] = params["federation_ca_file"]
    if params.get("federation_labels"):
        labels = params["federation_labels"]
        for key, value in labels.items():
            variable = "{0}federation_labels.{1}".format(PREFIX, key)
            if not validation.is_prometheus_label_name(str(key)):
                raise ValidationError(variable, "expected a Prometheus label name: letters, digits and '_', not "
                                                "starting with a digit or '__'", key)
            validation.label_value(variable, str(value))
        job["static_configs"][0]["labels"] = dict((k, str(v)) for k, v in labels.items())
    return job


def validate_gateway(params):
    """What the Gateway API flavours need, and the Ingress-only settings they cannot honour."""
    if params["platform"] == "deckhouse":
        raise ValidationError(PREFIX + "flavour", "Deckhouse's Prometheus accepts only its ingress-nginx "
                              "controller's client certificate; use the ingress flavour there", params["flavour"])
    _require(params, "gateway_name")
    params["route_namespace"] = params.get("route_namespace") or params["namespace"]
    for name, why in (("tls_cert_file", "TLS ends at the Gateway listener, whose certificateRefs belong to the "
                                        "Gateway"),
                      ("tls_key_file", "TLS ends at the Gateway listener, whose certificateRefs belong to the "
                                       "Gateway"),
                      ("ingress_class", "the route attaches to the Gateway named by gateway_name")):
        if params.get(name):
            raise ValidationError(PREFIX + name, "not used with the {0} flavour: {1}".format(params["flavour"], why),
                                  params[name])
    if params["client_cert_mode"] != "none":
        raise ValidationError(PREFIX + "client_cert_mode", "with the {0} flavour the backend client certificate "
                              "is the Gateway's (spec.tls.backend.clientCertificateRef, set by the Gateway's "
                              "owner); leave client_cert_mode none".format(params["flavour"]),
                              params["client_cert_mode"])


def gateway_objects(params, render_mode):
    """HTTPRoute (+ ReferenceGrant, BackendTLSPolicy) and the implementation's auth policy."""
    validate_gateway(params)
    name, namespace, route_namespace = params["ingress_name"], params["namespace"], params["route_namespace"]
    service = {"name": params["service_name"], "namespace": namespace, "port": params["service_port"]}
    if not isinstance(service["port"], int):
        raise ValidationError(PREFIX + "service_port", "an HTTPRoute names the Service port by number",
                              service["port"])
    gateway = {"name": params["gateway_name"], "namespace": params.get("gateway_namespace") or route_namespace,
               "section_name": params.get("gateway_section_name")}
    manifests = [gateway_api.http_route(name, route_namespace, gateway, params["host"], service,
                                        ingress_paths(params), PREFIX + "read_only_extra_paths")]
    if route_namespace != namespace:
        # The route reaches the Service, and the policy the auth Secret, in the Prometheus namespace.
        manifests.append(gateway_api.reference_grant(
            name + "-from-" + route_namespace, namespace, route_namespace,
            froms=[(gateway_api.GROUP, "HTTPRoute"), (envoy_gateway.GROUP, envoy_gateway.SECURITY_POLICY_API["kind"])],
            tos=[("", "Service", service["name"]), ("", "Secret", params["auth_secret_name"])]))
    if params["backend_protocol"] == "HTTPS":
        ca_name = None
        if params.get("backend_ca_file"):
            ca_name = name + "-backend-ca"
            ca = _read_file(PREFIX + "backend_ca_file", params["backend_ca_file"])
            if b"-----BEGIN CERTIFICATE-----" not in ca:
                raise ValidationError(PREFIX + "backend_ca_file", "expected a PEM certificate",
                                      params["backend_ca_file"])
            manifests.append(gateway_api.ca_config_map(ca_name, namespace, ca.decode("ascii")))
        hostname = params.get("proxy_ssl_name") or "{0}.{1}.svc".format(service["name"], namespace)
        manifests.append(gateway_api.backend_tls_policy(name, service, hostname, ca_name))
    elif params["backend_protocol"] != "HTTP":
        raise ValidationError(PREFIX + "backend_protocol", "the {0} flavour routes HTTP or HTTPS".format(
            params["flavour"]), params["backend_protocol"])
    manifests.append(envoy_gateway.security_policy(name, route_namespace, name, params["auth_secret_name"],
                                                   namespace, params["allowlist"]))
    return [ownership.owned(m, COMPONENT) for m in manifests]


def required_apis(manifests):
    """The APIs of ``manifests``, each once, with where they come from."""
    sources = {"networking.k8s.io": "Kubernetes (served by every supported cluster)", "": "Kubernetes",
               gateway_api.GROUP: "Gateway API CRDs (standard channel)", envoy_gateway.GROUP: "Envoy Gateway"}
    apis = []
    for manifest in manifests:
        api = {"api_version": manifest["apiVersion"], "kind": manifest["kind"]}
        if not any(a["api_version"] == api["api_version"] and a["kind"] == api["kind"] for a in apis):
            apis.append(dict(api, source=sources[manifest["apiVersion"].rpartition("/")[0]]))
    return apis


ARGUMENT_SPEC = dict(
    platform=dict(type="str", default="generic", choices=list(PLATFORMS)),
    mode=dict(type="str", default="apply", choices=["apply", "render"]),
    host=dict(type="str"),
    namespace=dict(type="str"),
    service_name=dict(type="str"),
    service_port=dict(type="raw"),
    backend_protocol=dict(type="str", choices=["HTTP", "HTTPS", "GRPC", "GRPCS"]),
    flavour=dict(type="str", default="ingress", choices=list(FLAVOURS)),
    gateway_name=dict(type="str"),
    gateway_namespace=dict(type="str"),
    gateway_section_name=dict(type="str"),
    route_namespace=dict(type="str"),
    ingress_name=dict(type="str", default="prometheus-external"),
    ingress_class=dict(type="str"),
    tls_secret_name=dict(type="str"),
    tls_cert_file=dict(type="path"),
    tls_key_file=dict(type="path"),
    auth_secret_name=dict(type="str", default="prometheus-external-basic-auth"),
    auth_secret_type=dict(type="str", default="auth-file", choices=["auth-file", "auth-map"]),
    auth_realm=dict(type="str", default="Authentication Required - Prometheus"),
    app_root=dict(type="str", default="/graph"),
    allowlist=dict(type="list", elements="str", default=[]),
    allow_any_source=dict(type="bool", default=False),
    client_cert_mode=dict(type="str", choices=list(CLIENT_CERT_MODES)),
    allow_configuration_snippet=dict(type="bool", default=False),
    controller_client_cert_path=dict(type="str", default="/etc/nginx/ssl/client.crt"),
    controller_client_key_path=dict(type="str", default="/etc/nginx/ssl/client.key", no_log=False),
    proxy_ssl_secret_name=dict(type="str", default="prometheus-external-proxy-ssl"),
    proxy_ssl_secret_create=dict(type="bool", default=False),
    proxy_ssl_secret_keys=dict(type="list", elements="str", no_log=False),
    proxy_ssl_source=dict(type="dict", no_log=True),
    proxy_ssl_verify=dict(type="bool", default=False),
    proxy_ssl_name=dict(type="str"),
    backend_ca_file=dict(type="path"),
    deckhouse_controller=dict(type="str", default="main"),
    read_only=dict(type="bool", default=True),
    read_only_ui=dict(type="bool", default=False),
    read_only_extra_paths=dict(type="list", elements="str", default=[]),
    grafana_datasource_name=dict(type="str"),
    grafana_username=dict(type="str", default="grafana"),
    grafana_password_reference=dict(type="str", default="$__env{PROMETHEUS_EXTERNAL_ACCESS_PASSWORD}", no_log=False),
    grafana_ca_reference=dict(type="str"),
    federation_job_name=dict(type="str"),
    federation_username=dict(type="str", default="grafana"),
    federation_password_file=dict(type="str", default="/etc/prometheus/secrets/prometheus-external-access.password",
                                  no_log=False),
    federation_ca_file=dict(type="str"),
    federation_match=dict(type="list", elements="str", default=['{job=~".+"}']),
    federation_scrape_interval=dict(type="str", default="60s"),
    federation_labels=dict(type="dict", default={}),
    grafana_url=dict(type="str"),
    probe_url=dict(type="str"),
    probe_timeout=dict(type="int"),
    grafana_org_id=dict(type="int"),
    validate_only=dict(type="bool", default=False),
)


def build(params, check_mode=False):
    """Builder entry point shared by the module and its action plugin."""
    params = resolve(dict(params))
    for name, spec in ARGUMENT_SPEC.items():
        if name not in params:
            params[name] = spec.get("default")
    validate(params)
    if params["flavour"] != "ingress":
        validate_gateway(params)
    if params.get("validate_only"):
        # Everything checked that needs no live state; the role runs this before any API call or file write.
        federation_job(params)
        return {"changed": False, "namespace": params["namespace"]}
    render_mode = params.get("mode") == "render"
    warnings = [WARN_BASIC_AUTH]
    if not params["allowlist"] or covers_every_address(params["allowlist"]):
        warnings.append(WARN_ANY_SOURCE)
    if params["namespace"].startswith("d8-") or params["namespace"] in ("kube-system",):
        warnings.append(WARN_SYSTEM_NAMESPACE.format(params["namespace"]))

    if params["flavour"] == "ingress":
        manifests = []
        tls = tls_secret(params, render_mode, warnings)
        if tls is not None:
            manifests.append(tls)
        if params["client_cert_mode"] == "secret":
            proxy = proxy_ssl_secret(params, render_mode, warnings)
            if proxy is not None:
                manifests.append(proxy)
        manifests.append(build_ingress(params, annotations_for(params, warnings)))
    else:
        manifests = gateway_objects(params, render_mode)

    return {
        "changed": False,
        "manifests": manifests,
        "has_private_keys": any(m["kind"] == "Secret" for m in manifests),
        # The auth Secret is hashed by the role and applied with these objects.
        "required_apis": required_apis(manifests + [{"apiVersion": "v1", "kind": "Secret"}]),
        "namespace": params["namespace"],
        "settings": {
            "platform": params["platform"],
            "flavour": params["flavour"],
            "namespace": params["namespace"],
            "host": params["host"],
            "client_cert_mode": params["client_cert_mode"],
            "backend_protocol": params["backend_protocol"],
            "paths": [path[0] for path in ingress_paths(params)],
        },
        "grafana_datasource": grafana_datasource(params),
        "federation_job": federation_job(params),
        "warnings": warnings,
    }
