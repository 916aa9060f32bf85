# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP for the Pushgateway and Prometheus modules: auth, TLS, bounded retries.

Built on ``ansible.module_utils.urls.open_url`` (proxies, client certificates, CA
bundles and basic auth the way every Ansible module handles them). prometheus_client's
``push_to_gateway`` is not used: it has no retries or back-off, no client
certificate option and no way to read a group's current state.

Retry policy: connection errors, time-outs and 5xx answers are retried with
exponential back-off; 4xx answers never are -- the request itself is wrong and
sending it again changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import ssl
import time

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import Request, make_context

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import validation

try:
    from ansible.module_utils.urls import SSLValidationError
except ImportError:  # pragma: no cover
    SSLValidationError = None

# Options every HTTP module of this family takes (merged into their argument specs).
CONNECTION_ARGUMENT_SPEC = dict(
    url_username=dict(type="str"),
    url_password=dict(type="str", no_log=True),
    bearer_token=dict(type="str", no_log=True),
    client_cert=dict(type="path"),
    client_key=dict(type="path"),
    ca_path=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="float", default=10.0),
    retries=dict(type="int", default=3),
    retry_delay=dict(type="float", default=1.0),
    retry_max_delay=dict(type="float", default=30.0),
)
MAX_ERROR_BODY = 2000


class HTTPRequestError(Exception):
    """A request failed for good. ``str()`` is the message; ``status`` is None without an answer."""

    def __init__(self, message, status=None, body="", attempts=1):
        super(HTTPRequestError, self).__init__(message)
        self.status = status
        self.body = body
        self.attempts = attempts


class Response(object):
    def __init__(self, status, body, attempts):
        self.status = status
        self.body = body
        self.attempts = attempts

    def text(self):
        return to_text(self.body, errors="surrogate_or_replace")


class Session(object):
    """Sends the requests of one module run, all with one TLS context.

    ansible's open_url builds a TLS context for every request, and that reads the
    whole CA bundle (about 40 ms, for http:// URLs too); a push sends two or three
    requests with the same options. Built at the first request, so that a bad
    certificate fails there as it always did.
    """

    def __init__(self):
        self.context = None

    def __call__(self, params, method, url, **kwargs):
        return request(params, method, url, session=self, **kwargs)

    def tls_context(self, params):
        if self.context is None:
            # What Request.open builds when it is given no context (see open_url below).
            self.context = make_context(
                cafile=params.get("ca_path"), validate_certs=params.get("validate_certs", True),
                client_cert=params.get("client_cert"), client_key=params.get("client_key"))
        return self.context


def open_url(url, method, context=None, **kwargs):
    """ansible's ``open_url``, which is ``Request().open``, but passing on a TLS ``context``."""
    return Request().open(method, url, context=context, **kwargs)


def is_retryable(status):
    """``None`` (no answer: refused, reset, time-out) and 5xx are retried; 4xx never."""
    return status is None or status >= 500


def backoff_delays(retries, delay, max_delay, factor=2.0):
    """Sleep before each retry: ``delay``, ``delay*factor``, ... capped at ``max_delay``."""
    return [min(max_delay, delay * factor ** attempt) for attempt in range(max(0, retries))]


def url_credentials(url):
    """The user information of ``url`` (``user:password`` in ``http://user:password@host``), or None."""
    if not isinstance(url, str):
        return None
    authority = url.partition("://")[2] if "://" in url else url
    for end in "/?#":
        authority = authority.split(end, 1)[0]
    user_info, at, _host = authority.rpartition("@")
    return user_info if at else None


def mask_url_credentials(module):
    """Add the credentials of the module's ``url`` option, if any, to the values Ansible masks.

    check_connection_params refuses such a URL, but Ansible echoes the module arguments
    (``invocation``, ``-vvv``) whatever the module answers; masked, they show as ``********``.
    """
    credentials = url_credentials(module.params.get("url"))
    if credentials:
        module.no_log_values.add(credentials)


def check_connection_params(params):
    """Reject contradictory or out-of-range connection options; returns a message or None."""
    if url_credentials(params.get("url")) is not None:
        # Not echoed: the URL ends up in results and messages, and open_url would not send
        # them unless the server asked (no forced basic auth).
        return ("url: credentials in the URL are not supported (the URL appears in results and errors); "
                "give them with url_username and url_password (basic auth) instead")
    try:
        validation.http_url("url", params.get("url"))
    except validation.ValidationError as err:
        return str(err)
    if params.get("url_username") and (":" in params["url_username"] or "\n" in params["url_username"]):
        return "url_username: a Basic-auth user name cannot contain ':' or a newline"
    if params.get("bearer_token") and params.get("url_username"):
        return "bearer_token and url_username are mutually exclusive: choose basic auth or a bearer token"
    if params.get("url_password") and not params.get("url_username"):
        return "url_password needs url_username"
    if params.get("client_key") and not params.get("client_cert"):
        return "client_key needs client_cert"
    if params.get("retries") is not None and params["retries"] < 0:
        return "retries: expected 0 or more, got {0}".format(params["retries"])
    if params.get("timeout") is not None and params["timeout"] <= 0:
        return "timeout: expected seconds greater than 0, got {0}".format(params["timeout"])
    for name in ("retry_delay", "retry_max_delay"):
        if params.get(name) is not None and params[name] < 0:
            return "{0}: expected 0 or more, got {1}".format(name, params[name])
    for name in ("ca_path", "client_cert", "client_key"):
        path = params.get(name)
        if path and not (os.path.isfile(path) and os.access(path, os.R_OK)):
            return "{0}: {1} is not a readable file".format(name, path)
    return None


def _error_body(err):
    try:
        body = err.read()
    except Exception:
        return ""
    return to_text(body or b"", errors="surrogate_or_replace")[:MAX_ERROR_BODY].strip()


def request(params, method, url, data=None, headers=None, sleep=time.sleep, deadline=None, clock=time.monotonic,
            session=None):
    """Send one request with the connection options in ``params``; retry per the policy.

    Within a :class:`Session`, requests share its TLS context.

    With a ``deadline`` (a ``clock()`` value), each attempt's time-out is cut to the time
    left and no attempt starts after it. Returns a :class:`Response` for 2xx/3xx; raises
    :class:`HTTPRequestError` with the server's own error text otherwise. Messages carry
    the URL but never credentials.
    """
    headers = dict(headers or {})
    if params.get("bearer_token"):
        headers["Authorization"] = "Bearer " + params["bearer_token"]
    delays = backoff_delays(params.get("retries") or 0, params.get("retry_delay") or 0.0,
                            params.get("retry_max_delay") or 0.0)
    attempt = 0
    while True:
        attempt += 1
        status, body, reason = None, "", None
        timeout = params.get("timeout") or 10  # unset (direct callers); 0 is refused by the input check
        if deadline is not None:
            timeout = min(timeout, deadline - clock())
            if timeout <= 0:
                raise HTTPRequestError("{0} {1} not sent: no time left".format(method.upper(), url),
                                       attempts=attempt - 1)
        try:
            handle = open_url(
                url, data=data, headers=headers, method=method.upper(),
                context=session.tls_context(params) if session is not None else None,
                timeout=timeout,
                validate_certs=params.get("validate_certs", True),
                url_username=params.get("url_username"),
                url_password=params.get("url_password"),
                force_basic_auth=bool(params.get("url_username")),
                client_cert=params.get("client_cert"),
                client_key=params.get("client_key"),
                ca_path=params.get("ca_path"),
                follow_redirects="safe",
                use_netrc=False,
            )
            return Response(handle.getcode(), handle.read(), attempt)
        except HTTPError as err:
            status, body = err.code, _error_body(err)
            reason = "HTTP {0}{1}".format(err.code, ": " + body if body else "")
        except (URLError, socket.timeout, socket.error, ConnectionError) as err:
            cause = getattr(err, "reason", None) or err
            if isinstance(cause, ssl.SSLCertVerificationError):
                # A certificate that does not verify will not verify on the next attempt either.
                raise HTTPRequestError("{0} {1} failed TLS verification (not retried): {2}".format(
                    method.upper(), url, to_text(cause)), attempts=attempt)
            reason = to_text(cause)
        except Exception as err:
            if SSLValidationError is not None and isinstance(err, SSLValidationError):
                raise HTTPRequestError("{0} {1} failed TLS verification: {2}".format(
                    method.upper(), url, to_text(err)), attempts=attempt)
            raise
        retry = is_retryable(status) and attempt <= len(delays)
        if retry and deadline is not None and clock() + delays[attempt - 1] >= deadline:
            retry = False
            reason = "{0} (no time left to retry)".format(reason)
        elif not retry and is_retryable(status) and attempt > 1:
            reason = "{0} (gave up after {1} attempts)".format(reason, attempt)
        if not retry:
            raise HTTPRequestError("{0} {1} failed: {2}".format(method.upper(), url, reason),
                                   status=status, body=body, attempts=attempt)
        sleep(delays[attempt - 1])
