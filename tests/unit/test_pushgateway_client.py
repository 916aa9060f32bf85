"""Grouping-key URLs, exposition text, idempotency prediction and the retry policy of pushgateway_metrics."""

import base64
import json

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_exposition as expo
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_http as http
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_client import (
    PushError,
    encode_segment,
    group_url,
    grouping_key,
    run,
)
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_http import HTTPRequestError


def params(**overrides):
    base = dict(url="http://pg:9091", job="backup", grouping={}, metrics=None, metrics_text=None, method="put",
                state="present", force=False, url_username=None, url_password=None, bearer_token=None,
                client_cert=None, client_key=None, ca_path=None, validate_certs=True, timeout=1.0, retries=2,
                retry_delay=0.0, retry_max_delay=0.0)
    base.update(overrides)
    return base


# --- grouping key URLs ---------------------------------------------------------------------------

def _b64(value):
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")


@pytest.mark.parametrize("value, expected", [
    ("db-1", "instance/db-1"),
    ("", "instance@base64/="),
    ("a/b", "instance@base64/" + _b64("a/b")),
    ("ü x", "instance/%C3%BC%20x"),
    ('a"b\\c\nd', "instance/a%22b%5Cc%0Ad"),
    ("50%+1", "instance/50%25%2B1"),
    ("???", "instance/%3F%3F%3F"),
    # HTTP path normalisation would drop these segments (the Pushgateway answers with a redirect).
    (".", "instance@base64/" + _b64(".")),
    ("..", "instance@base64/" + _b64("..")),
    ("...", "instance/..."),
    (".a", "instance/.a"),
])
def test_segment_encoding(value, expected):
    assert encode_segment("instance", value) == expected


def test_base64_form_uses_the_url_safe_alphabet():
    # b"\xfb\xff" encodes to "+/8=" in the standard alphabet; the Pushgateway wants "-_8=".
    segment = encode_segment("x", "/\u00fb\u00ff/")
    assert "+" not in segment and segment.count("/") == 1
    assert base64.urlsafe_b64decode(segment.split("/", 1)[1]).decode("utf-8") == "/\u00fb\u00ff/"


def test_group_url_is_job_first_then_sorted_labels():
    key = grouping_key("nightly/backup", {"zone": "b", "instance": "db-1"})
    assert key == {"job": "nightly/backup", "instance": "db-1", "zone": "b"}
    assert group_url("http://pg:9091/", key) == (
        "http://pg:9091/metrics/job@base64/" + _b64("nightly/backup") + "/instance/db-1/zone/b")


@pytest.mark.parametrize("grouping, message", [
    ({"bad-name": "x"}, "grouping: 'bad-name' is not a valid Prometheus label name"),
    ({"__reserved": "x"}, "not a valid Prometheus label name"),
    ({"job": "x"}, "grouping.job: give the job with the job option"),
    ({"a": {"b": 1}}, "grouping.a: expected a string value"),
])
def test_bad_grouping_labels_are_named(grouping, message):
    with pytest.raises(PushError, match=message.replace("(", r"\(").replace(")", r"\)")):
        grouping_key("j", grouping)


def test_numbers_in_grouping_become_strings():
    assert grouping_key("j", {"shard": 3}) == {"job": "j", "shard": "3"}


# --- exposition text -------------------------------------------------------------------------------

def test_label_values_are_escaped_and_round_trip_through_the_parser():
    nasty = 'quote " backslash \\ newline \n slash / ü'
    families = expo.families_from_structured([{"name": "m", "value": 1, "labels": {"v": nasty}, "help": "a\\b\nc"}])
    text = expo.write_families(families)
    assert 'v="quote \\" backslash \\\\ newline \\n slash / ü"' in text
    assert "# HELP m a\\\\b\\nc" in text
    parsed = expo.parse(text)
    assert parsed[0].samples[0].labels == {"v": nasty}
    assert parsed[0].documentation == "a\\b\nc"


def test_structured_values_and_types():
    families = expo.families_from_structured([
        {"name": "a", "value": "+Inf"}, {"name": "b", "value": 2.5, "type": "counter"},
        {"name": "c", "value": 1e21, "type": "untyped"}, {"name": "a", "value": "NaN", "labels": {"x": "1"}},
    ])
    text = expo.write_families(families)
    assert text == ("# TYPE a gauge\na +Inf\na{x=\"1\"} NaN\n# TYPE b counter\nb 2.5\n"
                    "# TYPE c untyped\nc 1e+21\n")


@pytest.mark.parametrize("metrics, message", [
    ([{"name": "9bad", "value": 1}], r"metrics\[0\].name: expected a metric name"),
    ([{"name": "a", "value": "abc"}], r"metrics\[0\].value: expected a number"),
    ([{"name": "a", "value": True}], r"metrics\[0\].value: expected a number, got a boolean"),
    ([{"name": "a", "value": 10 ** 400}], r"metrics\[0\].value: expected a number"),  # too large for a float
    ([{"name": "a", "value": 1, "type": "histogram"}], r"metrics\[0\].type: expected one of"),
    ([{"name": "a", "value": 1, "labels": {"bad-label": "x"}}], r"metrics\[0\].labels: 'bad-label'"),
    ([{"name": "a", "value": 1}, {"name": "a", "value": 2, "type": "counter"}], r"metrics\[1\]: metric a appears"),
    ([{"name": "push_time_seconds", "value": 1}], "set by the Pushgateway itself"),
])
def test_structured_metrics_are_rejected_with_the_path(metrics, message):
    with pytest.raises(expo.ExpositionError, match=message):
        expo.families_from_structured(metrics)


@pytest.mark.parametrize("text, message", [
    # The vendor's `echo "test_metric{env="dev"} 3.14"`: the shell ate the inner quotes.
    ("test_metric{env=dev} 3.14\n", "Invalid labels: env=dev"),
    ("foo{a=\"b\"} x\n", "could not convert string to float"),
    ("foo 1 1700000000\n", "has a timestamp"),
])
def test_bad_text_is_rejected_with_the_parsers_message(text, message):
    with pytest.raises(expo.ExpositionError, match="metrics_text: .*" + message):
        expo.parse(text)


def test_text_is_normalised_to_lf_with_final_newline():
    assert expo.normalise_text("a 1\r\nb 2") == "a 1\nb 2\n"


# --- comparing with the group the Pushgateway holds (shape of /api/v1/metrics) ---------------------

GROUP = {
    "labels": {"job": "j", "instance": "i"},
    "last_push_successful": True,
    "push_time_seconds": {"type": "GAUGE", "metrics": [{"labels": {"job": "j", "instance": "i"}, "value": "1.7e9"}]},
    "foo": {"type": "GAUGE", "help": "Some help",
            "metrics": [{"labels": {"job": "j", "instance": "i", "a": "x\"y"}, "value": "3.14"}]},
    "c_total": {"type": "COUNTER", "metrics": [{"labels": {"job": "j", "instance": "i"}, "value": "5"}]},
    "h": {"type": "HISTOGRAM", "metrics": [{"labels": {"job": "j", "instance": "i"}, "buckets": {"1": "2", "+Inf": "3"},
                                            "count": "3", "sum": "4"}]},
}
SAME_TEXT = ('# HELP foo Some help\n# TYPE foo gauge\nfoo{a="x\\"y"} 3.14\n# TYPE c_total counter\nc_total 5\n'
             '# TYPE h histogram\nh_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 3\nh_sum 4\nh_count 3\n')


def canonical_current():
    return expo.canonical_from_api(GROUP, {"job": "j", "instance": "i"})


MORE_SHAPES = dict(GROUP, **{
    "plain_counter": {"type": "COUNTER", "help": "a\\b\nc",
                      "metrics": [{"labels": {"job": "j", "instance": "i", "x": "1"}, "value": "2"},
                                  {"labels": {"job": "j", "instance": "i", "x": ""}, "value": "NaN"}]},
    "u": {"type": "UNTYPED", "metrics": [{"labels": {"job": "j", "instance": "i"}, "value": "-Inf"}]},
    "s": {"type": "SUMMARY", "metrics": [{"labels": {"job": "j", "instance": "i"}, "quantiles": {"0.5": "1", "0.99": "2"},
                                          "count": "3", "sum": "4.5"}]},
})


def test_direct_canonical_form_matches_the_parser_round_trip():
    key = {"job": "j", "instance": "i"}
    via_parser = expo.canonical(expo.parse(expo.group_text_from_api(MORE_SHAPES)), key)
    assert expo.canonical_from_api(MORE_SHAPES, key) == via_parser
    assert set(name for name, _type in via_parser) == {"foo", "c", "h", "plain_counter", "u", "s"}


def test_same_values_compare_equal_whatever_the_spelling():
    wanted = expo.canonical(expo.parse(SAME_TEXT), {"job": "j", "instance": "i"})
    assert wanted == canonical_current()
    assert expo.series_count(wanted) == 6


def test_put_replaces_post_merges():
    current = canonical_current()
    wanted = expo.canonical(expo.parse("# TYPE foo gauge\n# HELP foo Some help\nfoo{a=\"x\\\"y\"} 3.14\n"), {})
    assert expo.predict(current, wanted, "post") == current       # POST of an unchanged family: no change
    assert expo.predict(current, wanted, "put") != current        # PUT drops c_total and h
    changed = expo.canonical(expo.parse("# HELP foo Some help\n# TYPE foo gauge\nfoo{a=\"x\\\"y\"} 4\n"), {})
    after = expo.predict(current, changed, "post")
    assert after != current and set(after) == set(current)


class FakeGateway:
    """Stands in for the HTTP layer only; the real Pushgateway is in tests/integration."""

    def __init__(self, groups, fail=None):
        self.groups = groups
        self.calls = []
        self.fail = fail

    def __call__(self, params, method, url, data=None, headers=None):
        self.calls.append((method, url))
        if method == "GET":
            return http.Response(200, json.dumps({"status": "success", "data": self.groups}).encode(), 1)
        if self.fail:
            raise self.fail
        return http.Response(202 if method == "DELETE" else 200, b"", 1)


def test_unchanged_push_sends_nothing_and_force_sends():
    gateway = FakeGateway([GROUP])
    p = params(job="j", grouping={"instance": "i"}, metrics_text=SAME_TEXT)
    assert run(p, check_mode=False, http=gateway)["changed"] is False
    assert [c[0] for c in gateway.calls] == ["GET"]
    assert run(dict(p, force=True), check_mode=False, http=gateway)["changed"] is True
    assert gateway.calls[-1][0] == "PUT"


def test_a_gauge_beside_a_counter_of_the_same_stem_is_compared_too():
    # prometheus_client names counter it_ans_total's family "it_ans", like the gauge beside it.
    group_ = {"labels": {"job": "j"},
              "it_ans": {"type": "GAUGE", "metrics": [{"labels": {"job": "j", "instance": ""}, "value": "1"}]},
              "it_ans_total": {"type": "COUNTER", "metrics": [{"labels": {"job": "j", "instance": ""}, "value": "7"}]}}
    text = "# TYPE it_ans gauge\nit_ans {0}\n# TYPE it_ans_total counter\nit_ans_total 7\n"
    assert run(params(job="j", metrics_text=text.format(1)), check_mode=True, http=FakeGateway([group_]))["changed"] is False
    changed = run(params(job="j", metrics_text=text.format(2)), check_mode=True, http=FakeGateway([group_]))
    assert changed["changed"] is True and changed["series_after"] == 2


def test_check_mode_predicts_without_sending():
    gateway = FakeGateway([])
    result = run(params(metrics=[{"name": "a", "value": 1}]), check_mode=True, http=gateway)
    assert result["changed"] is True and result["series_after"] == 1
    assert [c[0] for c in gateway.calls] == ["GET"]


def test_delete_of_a_missing_group_warns_with_the_key_tried():
    # The vendor's example deletes {job="j", instance="i"} from a group pushed without instance.
    gateway = FakeGateway([dict(GROUP, labels={"job": "j"})])
    result = run(params(job="j", grouping={"instance": "i"}, state="absent"), check_mode=False, http=gateway)
    assert result["changed"] is False
    assert '{job="j", instance="i"}' in result["warnings"][0]
    assert [c[0] for c in gateway.calls] == ["GET"]


def test_4xx_carries_the_gateways_message():
    refusal = HTTPRequestError("PUT x failed", status=400, body="pushed metrics are invalid", attempts=1)
    gateway = FakeGateway([], fail=refusal)
    with pytest.raises(PushError, match="HTTP 400, not retried.*pushed metrics are invalid"):
        run(params(metrics=[{"name": "a", "value": 1}]), check_mode=False, http=gateway)


def test_grouping_label_conflicting_with_a_sample_label_is_rejected_before_sending():
    gateway = FakeGateway([])
    with pytest.raises(PushError, match="grouping key says instance='i'"):
        run(params(grouping={"instance": "i"}, metrics_text='a{instance="other"} 1\n'), check_mode=False, http=gateway)
    assert gateway.calls == []


DUPLICATES = [
    # (grouping, metrics or metrics_text, series named in the error)
    ({}, [{"name": "a", "value": 1, "labels": {"x": "1"}}, {"name": "a", "value": 1, "labels": {"x": "1"}}], 'a{x="1"}'),
    ({}, [{"name": "a", "value": 1}, {"name": "b", "value": 1}, {"name": "a", "value": 2}], "a "),
    ({}, "# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", 'a{x="1",y="2"}'),
    ({"instance": "i"}, "# TYPE a gauge\na 1\na{instance=\"i\"} 2\n", "a "),
    ({}, "# TYPE a gauge\na 1\na{x=\"\"} 2\n", "a "),
    ({}, "a 1\nb 1\na 2\n", "a "),  # not in the plain layout: prometheus_client's path
    ({}, '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
     'h_bucket{le="1"}'),
    ({}, "# TYPE c counter\nc_total 1\nc_total 2\n", "c_total "),
]


@pytest.mark.parametrize("grouping, metrics, series", DUPLICATES)
def test_the_same_series_twice_is_refused_before_sending(grouping, metrics, series):
    gateway = FakeGateway([])
    option = "metrics_text" if isinstance(metrics, str) else "metrics"
    with pytest.raises(PushError) as err:
        run(params(grouping=grouping, **{option: metrics}), check_mode=False, http=gateway)
    assert str(err.value).startswith(option + ": the series " + series.strip()), str(err.value)
    assert "more than once" in str(err.value)
    assert gateway.calls == []


def test_series_that_differ_are_not_duplicates():
    gateway = FakeGateway([])
    text = ('# TYPE a gauge\na{x="1"} 1\na{x="2"} 1\na 1\n# TYPE b gauge\nb{x="1"} 1\n'
            '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')
    assert run(params(metrics_text=text), check_mode=True, http=gateway)["series_pushed"] == 8


@pytest.mark.parametrize("url", ["http://pusher:s3cret-pass@pg:9091", "https://pusher:s3cret-pass@pg:9091/prefix",
                                 "http://s3cret-pass@pg:9091", "pusher:s3cret-pass@pg:9091",
                                 "ftp://pusher:s3cret-pass@pg"])
def test_credentials_in_the_url_are_refused_without_echoing_them(url):
    gateway = FakeGateway([])
    with pytest.raises(PushError) as err:
        run(params(url=url, metrics=[{"name": "a", "value": 1}]), check_mode=False, http=gateway)
    message = str(err.value)
    assert message.startswith("url: credentials in the URL are not supported")
    assert "url_username and url_password" in message
    assert "s3cret-pass" not in message and "pusher" not in message and "s3cret-pass" not in json.dumps(err.value.details)
    assert gateway.calls == []


@pytest.mark.parametrize("url, expected", [
    ("http://u:p@h:1", "u:p"), ("http://t@h", "t"), ("http://h:1/a@b", None), ("http://h/?x=@", None),
    ("http://h#@", None), ("u:p@h", "u:p"), ("http://h", None), (None, None),
])
def test_url_credentials(url, expected):
    assert http.url_credentials(url) == expected


@pytest.mark.parametrize("option", ["ca_path", "client_cert", "client_key"])
def test_a_missing_certificate_file_is_named_before_connecting(option, tmp_path):
    gateway = FakeGateway([])
    missing = str(tmp_path / "no-such.pem")
    existing = tmp_path / "cert.pem"
    existing.write_text("x")
    options = {option: missing}
    if option == "client_key":
        options["client_cert"] = str(existing)
    with pytest.raises(PushError) as err:
        run(params(metrics=[{"name": "a", "value": 1}], **options), check_mode=False, http=gateway)
    assert str(err.value) == "{0}: {1} is not a readable file".format(option, missing)
    assert gateway.calls == []


@pytest.mark.parametrize("overrides, message", [
    (dict(bearer_token="t", url_username="u"), "mutually exclusive"),
    (dict(url_password="p"), "url_password needs url_username"),
    (dict(retries=-1), "retries: expected 0 or more"),
    (dict(timeout=0), "timeout: expected seconds greater than 0"),
    (dict(timeout=-1), "timeout: expected seconds greater than 0"),
    (dict(metrics=None, metrics_text=None), "metrics or metrics_text is required"),
    (dict(metrics_text="  \n"), "metrics_text: empty"),
])
def test_bad_options_fail_before_any_request(overrides, message):
    gateway = FakeGateway([])
    with pytest.raises(PushError, match=message):
        run(params(**overrides), check_mode=False, http=gateway)
    assert gateway.calls == []


def test_secrets_never_in_messages():
    refusal = HTTPRequestError("PUT http://pg:9091/metrics/job/backup failed: HTTP 401", status=401, body="Unauthorized")
    gateway = FakeGateway([], fail=refusal)
    with pytest.raises(PushError) as err:
        run(params(url_username="u", url_password="s3cret-pass", metrics=[{"name": "a", "value": 1}]),
            check_mode=False, http=gateway)
    assert "s3cret-pass" not in str(err.value) and "s3cret-pass" not in json.dumps(err.value.details)


# --- retry policy ------------------------------------------------------------------------------------

def test_backoff_doubles_and_is_capped():
    assert http.backoff_delays(4, 0.5, 3.0) == [0.5, 1.0, 2.0, 3.0]
    assert http.backoff_delays(0, 1.0, 30.0) == []


@pytest.mark.parametrize("status, retry", [(None, True), (500, True), (503, True), (400, False), (401, False),
                                           (404, False), (409, False)])
def test_only_connection_errors_and_5xx_are_retried(status, retry):
    assert http.is_retryable(status) is retry


def test_request_retries_refused_connections_then_gives_one_error(monkeypatch):
    import urllib.error
    attempts, sleeps = [], []

    def refuse(*args, **kwargs):
        attempts.append(1)
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(http, "open_url", refuse)
    with pytest.raises(HTTPRequestError) as err:
        http.request(params(retries=3, retry_delay=0.1, retry_max_delay=0.15), "PUT", "http://pg:9091/x",
                     sleep=sleeps.append)
    assert len(attempts) == 4 and sleeps == [0.1, 0.15, 0.15]
    assert "gave up after 4 attempts" in str(err.value) and err.value.status is None


def test_request_does_not_retry_4xx(monkeypatch):
    import io
    import urllib.error
    attempts = []

    def refuse(url, **kwargs):
        attempts.append(1)
        raise urllib.error.HTTPError(url, 400, "Bad Request", {}, io.BytesIO(b"text format parsing error"))

    monkeypatch.setattr(http, "open_url", refuse)
    with pytest.raises(HTTPRequestError) as err:
        http.request(params(retries=5), "PUT", "http://pg:9091/x", sleep=lambda s: None)
    assert len(attempts) == 1 and err.value.status == 400 and "text format parsing error" in str(err.value)


def test_bearer_token_goes_into_the_header_only(monkeypatch):
    seen = {}

    class Handle:
        def getcode(self):
            return 200

        def read(self):
            return b"ok"

    def capture(url, **kwargs):
        seen.update(kwargs, url=url)
        return Handle()

    monkeypatch.setattr(http, "open_url", capture)
    http.request(params(bearer_token="tok"), "GET", "http://pg:9091/api/v1/metrics")
    assert seen["headers"]["Authorization"] == "Bearer tok" and "tok" not in seen["url"]
    assert seen["force_basic_auth"] is False


def test_a_session_builds_one_tls_context_for_all_its_requests(monkeypatch):
    built, contexts = [], []

    class Handle:
        def getcode(self):
            return 200

        def read(self):
            return b"{}"

    def capture(url, **kwargs):
        contexts.append(kwargs["context"])
        return Handle()

    monkeypatch.setattr(http, "make_context", lambda **kwargs: built.append(kwargs) or object())
    monkeypatch.setattr(http, "open_url", capture)
    session = http.Session()
    session(params(), "GET", "http://pg:9091/api/v1/metrics")
    session(params(), "PUT", "http://pg:9091/metrics/job/j", data=b"a 1\n")
    assert len(built) == 1 and built[0]["validate_certs"] is True
    assert contexts[0] is contexts[1] is not None
    http.request(params(), "GET", "http://pg:9091/api/v1/metrics")  # without a session: open_url's own context
    assert contexts[2] is None
