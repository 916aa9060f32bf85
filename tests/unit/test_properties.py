"""Hypothesis property tests: the push module's encoding and the builders.

Push encoding: a grouping label value put into the URL path decodes back exactly;
exposition text written from structured metrics parses back (prometheus_client's
parser, the one the Pushgateway's format follows) to the same samples.

Builders: any valid input gives manifests that carry the ownership labels and pass
tests.schema.validate_manifest (real CRD schemas); a name that is not a DNS name is
rejected with the variable named.
"""

import base64
import math
import re
from urllib.parse import unquote

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import (
    htpasswd_users,
    istio_metrics,
    network_policies,
    prometheus_external_access,
    pushgateway,
    pushgateway_exposition as exposition,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.ownership import (
    COMPONENT_KEY,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_client import (
    PushError,
    group_url,
    grouping_key,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError
from tests.unit.test_istio_metrics import validate as validate_with_istio_root_fields

SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
BUILDER_SETTINGS = settings(max_examples=15, deadline=None, database=None,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
BASE = "http://127.0.0.1:9091"

# --- strategies -------------------------------------------------------------------

label_names = st.from_regex(r"\A[a-zA-Z_][a-zA-Z0-9_]{0,20}\Z").filter(lambda n: not n.startswith("__") and n != "job")
metric_names = st.from_regex(r"\A[a-zA-Z_:][a-zA-Z0-9_:]{0,30}\Z").filter(
    lambda n: n not in exposition.GATEWAY_METRICS)
# Any text the YAML/JSON of a task can carry (no lone surrogates: not UTF-8-encodable).
label_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
dns_labels = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
# Names Kubernetes refuses: upper case, underscores, leading/trailing dashes, too long, empty.
non_dns_names = st.one_of(
    st.from_regex(r"\A[A-Z][a-zA-Z0-9]{0,10}\Z"),
    st.from_regex(r"\A[a-z0-9]{1,5}_[a-z0-9]{1,5}\Z"),
    st.from_regex(r"\A-[a-z0-9]{1,10}\Z"),
    st.from_regex(r"\A[a-z0-9]{1,10}-\Z"),
    st.just("a" * 64),
    st.just(""),
)
k8s_label_values = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?\Z")


@st.composite
def ipv4_networks(draw):
    prefix = draw(st.integers(min_value=8, max_value=32))
    address = draw(st.integers(min_value=0x0B000000, max_value=0xDF000000))
    address &= (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return "{0}.{1}.{2}.{3}/{4}".format(address >> 24, (address >> 16) & 255, (address >> 8) & 255, address & 255,
                                        prefix)


def decode_group_path(url):
    """{label: value} from ``<base>/metrics/job/<job>{/<label>/<value>}``, undoing both encodings."""
    path = url[len(BASE):]
    assert path.startswith("/metrics/")
    segments = path[len("/metrics/"):].split("/")
    assert len(segments) % 2 == 0, segments
    key = {}
    for name, value in zip(segments[::2], segments[1::2]):
        if name.endswith("@base64"):
            key[name[:-len("@base64")]] = base64.urlsafe_b64decode(value if value != "=" else "").decode("utf-8")
        else:
            key[name] = unquote(value, errors="strict")
    return key


# --- push encoding ------------------------------------------------------------------

@SETTINGS
@given(job=label_values.filter(bool), grouping=st.dictionaries(label_names, label_values, max_size=4))
def test_grouping_key_round_trips_through_the_url_path(job, grouping):
    key = grouping_key(job, grouping)
    url = group_url(BASE, key)
    assert decode_group_path(url) == key == dict(grouping, job=job)


@SETTINGS
@given(name=st.text(max_size=12).filter(lambda n: not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", n) or n.startswith("__")))
def test_invalid_grouping_label_names_are_rejected_naming_grouping(name):
    with pytest.raises(PushError) as err:
        grouping_key("nightly", {name: "x"})
    assert str(err.value).startswith("grouping")


@st.composite
def structured_metrics(draw):
    metrics = []
    for name in draw(st.lists(metric_names, min_size=1, max_size=3, unique=True)):
        mtype = draw(st.sampled_from(exposition.STRUCTURED_TYPES))
        help_text = draw(st.one_of(st.just(""), label_values))
        label_sets = draw(st.lists(st.dictionaries(label_names, label_values, max_size=3), min_size=1, max_size=3,
                                   unique_by=lambda labels: tuple(sorted(labels.items()))))
        for labels in label_sets:
            value = draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                   st.integers(min_value=-10 ** 12, max_value=10 ** 12)))
            metrics.append({"name": name, "type": mtype, "help": help_text, "labels": labels, "value": value})
    return metrics


def family_name(metric):
    name = metric["name"]
    return name[:-len("_total")] if metric["type"] == "counter" and name.endswith("_total") else name


def same_number(left, right):
    return (math.isnan(left) and math.isnan(right)) or left == right


@SETTINGS
@given(metrics=structured_metrics())
def test_exposition_text_parses_back_to_the_same_samples(metrics):
    text = exposition.write_families(exposition.families_from_structured(metrics))
    parsed = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            parsed[(family.name, tuple(sorted(sample.labels.items())))] = sample.value
    # prometheus_client names a counter family without its _total suffix (and its samples with it).
    wanted = dict(((family_name(m), tuple(sorted(m["labels"].items()))), float(m["value"])) for m in metrics)
    assert set(parsed) == set(wanted), text
    for key, value in wanted.items():
        assert same_number(parsed[key], value), (key, parsed[key], value, text)


@SETTINGS
@given(value=label_values)
def test_a_label_value_escapes_and_parses_back_exactly(value):
    text = 'm{{l="{0}"}} 1\n'.format(exposition.escape_label_value(value))
    [family] = text_string_to_metric_families(text)
    assert family.samples[0].labels == {"l": value}


# --- builders -----------------------------------------------------------------------

def with_defaults(spec, params):
    """Parameters as AnsibleModule hands them to build(): validated, every default (and sub-default) filled in."""
    result = ArgumentSpecValidator(spec).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def assert_owned_and_valid(result, component):
    assert result["manifests"], "no manifests built"
    for manifest in result["manifests"]:
        labels = manifest["metadata"].get("labels") or {}
        assert labels.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE, manifest["metadata"]
        assert labels.get(COMPONENT_KEY) == component, manifest["metadata"]
        validate_with_istio_root_fields(manifest)


@BUILDER_SETTINGS
@given(namespace=dns_labels, clients=st.lists(st.tuples(dns_labels, dns_labels), min_size=1, max_size=3, unique=True),
       scrape=st.lists(dns_labels, max_size=3, unique=True),
       ports=st.lists(st.integers(min_value=1, max_value=65535), min_size=1, max_size=3, unique=True),
       release=k8s_label_values, variant=st.sampled_from(["envoy", "istio_merged"]))
def test_istio_metrics_builds_owned_schema_valid_objects(namespace, clients, scrape, ports, release, variant):
    params = with_defaults(istio_metrics.ARGUMENT_SPEC, {
        "namespace": namespace, "clients": [{"namespace": n, "service_account": s} for n, s in clients],
        "scrape_namespaces": scrape, "ports": ports, "release_label": release, "pod_monitor_variant": variant,
        "istiod_service_monitor_enabled": True})
    assert_owned_and_valid(istio_metrics.build(params), "istio_metrics")


@BUILDER_SETTINGS
@given(namespace=dns_labels,
       names=st.lists(dns_labels.filter(lambda n: len(n) <= 30), min_size=1, max_size=3, unique=True),
       persistent=st.booleans(),
       labels=st.dictionaries(st.from_regex(r"\A[a-z][a-z0-9]{0,10}\Z"), k8s_label_values, max_size=2))
def test_pushgateway_builds_owned_schema_valid_objects(namespace, names, persistent, labels):
    params = with_defaults(pushgateway.ARGUMENT_SPEC, {
        "namespace": namespace, "instances": [{"name": n} for n in names], "service_monitor_labels": labels,
        "persistence": {"enabled": persistent}})
    assert_owned_and_valid(pushgateway.build(params), "pushgateway")


@BUILDER_SETTINGS
@given(namespace=dns_labels, cidrs=st.lists(ipv4_networks(), min_size=1, max_size=3, unique=True),
       pushers=st.lists(dns_labels, min_size=1, max_size=2, unique=True),
       preset=st.sampled_from(["kube-prometheus-stack", "deckhouse", "verrazzano"]))
def test_network_policies_builds_owned_schema_valid_objects(namespace, cidrs, pushers, preset):
    params = with_defaults(network_policies.ARGUMENT_SPEC, {
        "preset": preset, "namespace": namespace if preset == "kube-prometheus-stack" else "",
        "api_server_cidrs": cidrs, "components": {"default_deny": True, "pushgateway": True, "pushers": True},
        "pushers": [{"namespace": n, "pod_labels": {"app": "batch"}} for n in pushers]})
    assert_owned_and_valid(network_policies.build(params), "network_policies")


@BUILDER_SETTINGS
@given(host_labels=st.lists(dns_labels, min_size=2, max_size=4), namespace=dns_labels,
       allowlist=st.lists(ipv4_networks(), min_size=1, max_size=3, unique=True), port=st.integers(1, 65535),
       read_only=st.booleans())
def test_prometheus_external_access_builds_owned_schema_valid_objects(
        host_labels, namespace, allowlist, port, read_only):
    host = ".".join(host_labels)
    params = with_defaults(prometheus_external_access.ARGUMENT_SPEC, {
        "platform": "generic", "mode": "render", "host": host, "namespace": namespace, "service_name": "prometheus",
        "service_port": port, "allowlist": allowlist, "ingress_class": "nginx", "read_only": read_only})
    try:
        result = prometheus_external_access.build(params)
    except ValidationError as err:  # a generated host may be all-numeric or too long: then it must name host
        assert str(err).startswith("host") or "host" in err.variable, err
        return
    assert_owned_and_valid(result, "prometheus_external_access")


# Each builder, the option that holds an object or namespace name, and a valid rest.
# Object names of CRs are DNS subdomains (a 64-character name is fine there: the
# generator's "a" * 64 becomes "a" * 254); network_policies_namespace and pushgateway_namespace "" mean
# "the preset's".
NAME_OPTIONS = [
    (istio_metrics, "namespace", {"clients": [{"namespace": "monitoring", "service_account": "grafana"}]}),
    (istio_metrics, "pod_monitor_name", {"namespace": "monitoring",
                                         "clients": [{"namespace": "monitoring", "service_account": "grafana"}]}),
    (pushgateway, "namespace", {"instances": [{"name": "batch"}]}),
    (pushgateway, "instances", {}),
    (network_policies, "namespace", {}),
    (prometheus_external_access, "namespace", {"platform": "generic", "mode": "render", "host": "p.example.com",
                                               "service_name": "prometheus", "service_port": 9090,
                                               "allowlist": ["203.0.113.0/24"], "ingress_class": "nginx"}),
    (prometheus_external_access, "service_name", {"platform": "generic", "mode": "render", "host": "p.example.com",
                                                  "namespace": "monitoring", "service_port": 9090,
                                                  "allowlist": ["203.0.113.0/24"], "ingress_class": "nginx"}),
    (htpasswd_users, "namespace", {"name": "basic-auth", "cost": 4,
                                   "users": [{"username": "grafana", "password": "correct-horse-battery-staple-42"}]}),
]


@pytest.mark.parametrize("builder, option, rest", NAME_OPTIONS,
                         ids=["{0}.{1}".format(b.__name__.rsplit(".", 1)[-1], o) for b, o, _value in NAME_OPTIONS])
@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(bad=non_dns_names)
def test_a_non_dns_name_is_rejected_naming_the_variable(builder, option, rest, bad):
    if option == "pod_monitor_name" and bad == "a" * 64:
        bad = "a" * 254
    if builder in (network_policies, pushgateway) and option == "namespace" and bad == "":
        bad = "_"
    value = [{"name": bad}] if option == "instances" else bad
    params = with_defaults(builder.ARGUMENT_SPEC, dict(rest, **{option: value}))
    with pytest.raises(ValidationError) as err:
        builder.build(params, False)
    assert option in err.value.variable and option in str(err.value), str(err.value)


@settings(max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(users=st.lists(st.tuples(st.from_regex(r"\A[a-z][a-z0-9._@-]{0,15}\Z"),
                                st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=16, max_size=40)),
                      min_size=1, max_size=3, unique_by=lambda user: user[0]),
       scheme=st.sampled_from(["bcrypt", "apr1", "sha512"]), secret_format=st.sampled_from(["auth-file", "auth-map"]))
def test_htpasswd_secret_builds_an_owned_valid_secret_whose_hashes_verify(users, scheme, secret_format):
    from passlib.apache import HtpasswdFile
    params = with_defaults(htpasswd_users.ARGUMENT_SPEC, {
        "name": "basic-auth", "namespace": "monitoring", "scheme": scheme, "format": secret_format,
        "cost": 4 if scheme == "bcrypt" else None, "users": [{"username": u, "password": p} for u, p in users]})
    result = htpasswd_users.build(params)
    assert_owned_and_valid(result, "htpasswd_secret")
    [secret] = [m for m in result["manifests"] if m["kind"] == "Secret"]
    lines = [base64.b64decode(v).decode() for v in secret["data"].values()]
    text = "\n".join(lines if secret_format == "auth-file" else
                     ["{0}:{1}".format(k, base64.b64decode(v).decode()) for k, v in secret["data"].items()])
    htpasswd = HtpasswdFile.from_string(text)
    for username, password in users:
        assert password not in text
        assert htpasswd.check_password(username, password), username
