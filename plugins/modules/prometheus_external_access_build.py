#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prometheus_external_access_build
short_description: Build the Ingress and Secrets that expose the Prometheus API to an outside Grafana
version_added: 0.1.0
description:
  - Builds the ingress-nginx Ingress in front of the Prometheus API (TLS, basic auth, source allowlist,
    HTTPS to the backend with a client certificate), the TLS and proxy-ssl Secrets when asked to create
    them, a Grafana data source provisioning document and a federation scrape job.
  - The basic-auth Secret itself comes from M(k8s_monitoring.prometheus.htpasswd_secret).
  - With O(read_only) (the default) the Ingress routes only the read API paths and C(/federate), so the
    admin API, remote-write receiver and lifecycle endpoints get the controller's 404, without snippets.
  - Every bad input fails with a message naming the role variable. Never contacts a cluster; runs on the
    controller as an action plugin.
author:
  - k8s_monitoring.prometheus contributors (@k8s-monitoring)
options:
  platform:
    description: 'Preset: C(deckhouse) (namespace C(d8-monitoring), Service C(prometheus) port C(https), HTTPS backend,
      client certificate from the controller''s files), C(kube_prometheus_stack) (namespace C(monitoring), Service
      C(kube-prometheus-stack-prometheus) port 9090, plain HTTP), C(generic) (everything explicit). Explicit options
      override the preset.'
    type: str
    default: generic
    choices:
    - deckhouse
    - kube_prometheus_stack
    - generic
  mode:
    description: C(render) leaves out Secrets that would carry a private key and warns with the kubectl command to
      create them instead.
    type: str
    default: apply
    choices:
    - apply
    - render
  host:
    description: Ingress host, a fully qualified DNS name.
    type: str
  namespace:
    description: Namespace of Prometheus, the Ingress and its Secrets (preset).
    type: str
  service_name:
    description: Prometheus Service (preset).
    type: str
  service_port:
    description: Prometheus Service port, a number or a port name (preset).
    type: raw
  backend_protocol:
    description: Protocol from the ingress controller to Prometheus (preset).
    type: str
    choices:
    - HTTP
    - HTTPS
    - GRPC
    - GRPCS
  flavour:
    description:
      - C(ingress) exposes the API with an ingress-nginx C(Ingress). C(envoy_gateway) with a Gateway API
        C(HTTPRoute) on the Gateway O(gateway_name) (the same read-only path list), a C(BackendTLSPolicy) for an
        HTTPS backend, a C(ReferenceGrant) when O(route_namespace) differs from O(namespace), and an Envoy Gateway
        C(SecurityPolicy) for basic auth and the allowlist (C(clientCIDRs), everything else denied).
      - C(envoy_gateway) is not for the C(deckhouse) platform. TLS ends at the Gateway listener and the backend client
        certificate is the Gateway's (C(spec.tls.backend.clientCertificateRef)), both set by the Gateway's owner, so
        O(tls_cert_file), O(tls_key_file), O(ingress_class) and a O(client_cert_mode) other than C(none) are refused.
    type: str
    default: ingress
    choices: [ingress, envoy_gateway]
  gateway_name:
    description: The Gateway the HTTPRoute attaches to; required with O(flavour=envoy_gateway).
    type: str
  gateway_namespace:
    description: Namespace of that Gateway; unset means the route's namespace. Its listener must allow routes from there.
    type: str
  gateway_section_name:
    description: The Gateway listener (C(sectionName)) to attach to, such as the HTTPS one; unset means every listener.
    type: str
  route_namespace:
    description: Namespace of the HTTPRoute and SecurityPolicy; unset means O(namespace).
    type: str
  ingress_name:
    description: Name of the Ingress, or of the HTTPRoute and its policies with O(flavour=envoy_gateway).
    type: str
    default: prometheus-external
  ingress_class:
    description: C(ingressClassName) of the Ingress; unset uses the cluster's default class.
    type: str
  tls_secret_name:
    description: TLS Secret of the Ingress; default C(<ingress_name>-tls). Used as it is unless O(tls_cert_file) and
      O(tls_key_file) are given.
    type: str
  tls_cert_file:
    description: PEM certificate on the controller; with O(tls_key_file) the role creates the TLS Secret (apply mode
      only).
    type: path
  tls_key_file:
    description: PEM private key on the controller, see O(tls_cert_file).
    type: path
  auth_secret_name:
    description: Name of the basic-auth Secret (built by M(k8s_monitoring.prometheus.htpasswd_secret)).
    type: str
    default: prometheus-external-basic-auth
  auth_secret_type:
    description: C(auth-file) (one C(auth) key) or C(auth-map) (one key per user).
    type: str
    default: auth-file
    choices:
    - auth-file
    - auth-map
  auth_realm:
    description: Basic-auth realm shown by clients.
    type: str
    default: Authentication Required - Prometheus
  app_root:
    description: Where C(/) redirects (C(app-root) annotation); only with the UI routed.
    type: str
    default: /graph
  allowlist:
    description: Source CIDRs allowed to reach the Ingress (C(allowlist-source-range)).
    type: list
    default: []
    elements: str
  allow_any_source:
    description: Allow an empty O(allowlist) (any source); the build then warns.
    type: bool
    default: false
  client_cert_mode:
    description: 'How ingress-nginx presents a client certificate to Prometheus: C(controller_files) (the vendor''s
      configuration-snippet with the controller''s own files), C(secret) (snippet-free C(proxy-ssl-secret)), C(none).
      Preset.'
    type: str
    choices:
    - controller_files
    - secret
    - none
  allow_configuration_snippet:
    description: Acknowledge that the controller accepts configuration snippets; needed for C(controller_files) outside
      the Deckhouse preset.
    type: bool
    default: false
  controller_client_cert_path:
    description: Client certificate path inside the ingress controller pod (C(controller_files)).
    type: str
    default: /etc/nginx/ssl/client.crt
  controller_client_key_path:
    description: Client key path inside the ingress controller pod (C(controller_files)).
    type: str
    default: /etc/nginx/ssl/client.key
  proxy_ssl_secret_name:
    description: Secret for C(proxy-ssl-secret), in O(namespace); must hold C(tls.crt), C(tls.key) and C(ca.crt).
    type: str
    default: prometheus-external-proxy-ssl
  proxy_ssl_secret_create:
    description: 'Assemble O(proxy_ssl_secret_name) from O(proxy_ssl_source) (Deckhouse: the controller''s C(client.crt)/C(client.key)).'
    type: bool
    default: false
  proxy_ssl_secret_keys:
    description: Key names of the existing O(proxy_ssl_secret_name) as read from the cluster; a missing key fails
      the build. Unset (render mode) only warns.
    type: list
    elements: str
  proxy_ssl_source:
    description: C(data) of the Secret the client certificate comes from (base64 values; C(client.crt)/C(client.key)
      or C(tls.crt)/C(tls.key), optional C(ca.crt)).
    type: dict
  proxy_ssl_verify:
    description: 'C(proxy-ssl-verify): verify Prometheus'' serving certificate against C(ca.crt).'
    type: bool
    default: false
  proxy_ssl_name:
    description: Name to verify and to send as SNI to Prometheus (C(proxy-ssl-name)).
    type: str
  backend_ca_file:
    description: PEM CA of Prometheus' serving certificate on the controller, used as C(ca.crt) when O(proxy_ssl_source)
      has none.
    type: path
  deckhouse_controller:
    description: Deckhouse IngressNginxController name (its Secret C(ingress-nginx-<name>-auth-tls) holds the client
      certificate).
    type: str
    default: main
  read_only:
    description: Route only the read API paths and C(/federate); everything else gets the controller's 404.
    type: bool
    default: true
  read_only_ui:
    description: With O(read_only), also route the web UI (C(/graph), C(/static) and the status APIs it uses).
    type: bool
    default: false
  read_only_extra_paths:
    description: More exact paths to route with O(read_only).
    type: list
    default: []
    elements: str
  grafana_datasource_name:
    description: Name of the Grafana data source; default C(Prometheus <host>).
    type: str
  grafana_username:
    description: Basic-auth user Grafana uses.
    type: str
    default: grafana
  grafana_password_reference:
    description: 'What the provisioning file puts as the password: a Grafana reference such as C($__env{NAME}) or
      C($__file{path}), never the password.'
    type: str
    default: $__env{PROMETHEUS_EXTERNAL_ACCESS_PASSWORD}
  grafana_ca_reference:
    description: Grafana reference to the CA of the Ingress certificate (for example C($__file{/etc/grafana/ca.crt}));
      sets C(tlsAuthWithCACert).
    type: str
  federation_job_name:
    description: Job name of the federation scrape job; default C(federate-<host>).
    type: str
  federation_username:
    description: Basic-auth user of the federating Prometheus.
    type: str
    default: grafana
  federation_password_file:
    description: Path of the password file on the federating Prometheus host (C(basic_auth.password_file)).
    type: str
    default: /etc/prometheus/secrets/prometheus-external-access.password
  federation_ca_file:
    description: CA file on the federating Prometheus host for the Ingress certificate.
    type: str
  federation_match:
    description: C(match[]) selectors of the federation job.
    type: list
    default:
    - '{job=~".+"}'
    elements: str
  federation_scrape_interval:
    description: Scrape interval of the federation job.
    type: str
    default: 60s
  federation_labels:
    description: Labels added to the federated target (for example C(cluster)).
    type: dict
    default: {}
  grafana_url:
    description: Grafana URL the role will call (checked only; the Grafana API call is the role's).
    type: str
  probe_url:
    description: URL the role's probe will request (checked only).
    type: str
  probe_timeout:
    description: Seconds per probe request (checked only; a positive number).
    type: int
  grafana_org_id:
    description: Grafana organisation of the data source created through the HTTP API (checked only; a positive number).
    type: int
  validate_only:
    description: Only check the inputs that need no live state (the role runs this before any API call or file
      write); returns RV(namespace) only.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Builds the same result; the module never changes anything itself.
  diff_mode:
    support: none
    description: The module changes nothing; the files or objects built from its result show their diff where they are written.
notes:
  - Used by the C(k8s_monitoring.prometheus.prometheus_external_access) role; see its README.
"""

EXAMPLES = r"""
- name: Build the Deckhouse Prometheus Ingress
  k8s_monitoring.prometheus.prometheus_external_access_build:
    platform: deckhouse
    host: prometheus.prod.example.com
    allowlist: [203.0.113.10/32]
  register: external_access
"""

RETURN = r"""
manifests:
  description: Ingress and, when created, TLS and proxy-ssl Secrets, with ownership labels, in apply order.
  returned: success
  type: list
  elements: dict
has_private_keys:
  description: Whether RV(manifests) holds a Secret with a private key (the caller should not log it).
  returned: success
  type: bool
required_apis:
  description: APIs the cluster must serve, for the preflight.
  returned: success
  type: list
  elements: dict
prune_kinds:
  description: Kinds this role may create, for pruning.
  returned: success
  type: list
  elements: dict
namespace:
  description: The namespace everything goes to (after presets).
  returned: success
  type: str
settings:
  description: The resolved platform, namespace, host, client certificate mode, backend protocol and routed paths.
  returned: success
  type: dict
grafana_datasource:
  description: Grafana data source provisioning document; the password is a reference, never a value.
  returned: success
  type: dict
federation_job:
  description: Prometheus scrape job that federates through the Ingress (password from a file).
  returned: success
  type: dict
"""

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.builder import (
    run_builder_module,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.prometheus_external_access import (
    ARGUMENT_SPEC,
    build,
)


def main():
    run_builder_module(ARGUMENT_SPEC, build)


if __name__ == "__main__":
    main()
