# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """HTTP client options shared by the modules that talk to Pushgateway and Prometheus
    (plugins/module_utils/pushgateway_http.py implements them)."""

    DOCUMENTATION = r"""
options:
  url_username:
    description: User name for basic auth.
    type: str
  url_password:
    description: Password for basic auth.
    type: str
  bearer_token:
    description: Bearer token sent in the C(Authorization) header. Mutually exclusive with O(url_username).
    type: str
  client_cert:
    description: PEM client certificate (may include the key) for TLS client authentication.
    type: path
  client_key:
    description: PEM private key of O(client_cert), when not in the same file.
    type: path
  ca_path:
    description: PEM CA bundle to verify the server certificate with.
    type: path
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each HTTP request; more than 0.
    type: float
    default: 10.0
  retries:
    description: Retries of one request after a connection error, time-out or 5xx answer (never after 4xx).
    type: int
    default: 3
  retry_delay:
    description: Seconds before the first retry; doubled for each further retry.
    type: float
    default: 1.0
  retry_max_delay:
    description: Upper bound of the delay between two retries, in seconds.
    type: float
    default: 30.0
"""
