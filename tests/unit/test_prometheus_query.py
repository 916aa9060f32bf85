"""prometheus_query: answer handling and the wait loop (HTTP layer replaced; real Prometheus in integration)."""

import json

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import prometheus_query as pq
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_http import (
    HTTPRequestError,
    Response,
)


def params(**overrides):
    base = dict(url="http://prom:9090", query="up", time=None, wait=False, wait_for="result", expected_value=None,
                wait_timeout=5.0, wait_interval=1.0, url_username=None, url_password=None, bearer_token=None,
                client_cert=None, client_key=None, ca_path=None, validate_certs=True, timeout=1.0, retries=0,
                retry_delay=0.0, retry_max_delay=0.0)
    base.update(overrides)
    return base


def vector(*values):
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "m"}, "value": [1.0, v]} for v in values]}}


class Answers:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.forms = []
        self.deadlines = []

    def __call__(self, params, method, url, data=None, headers=None, deadline=None):
        assert method == "POST" and url.endswith("/api/v1/query")
        self.forms.append(data.decode())
        self.deadlines.append(deadline)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return Response(200, json.dumps(answer).encode(), 1)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_single_query_returns_the_vector():
    answers = Answers(vector("1"))
    result = pq.run(params(query='m{a="b c"}'), http=answers)
    assert result["sample_values"] == ["1"] and result["result_type"] == "vector" and result["changed"] is False
    assert answers.forms == ["query=m%7Ba%3D%22b+c%22%7D"]


def test_wait_until_expected_value():
    clock = Clock()
    answers = Answers(vector(), vector("1"), vector("3.14"))
    result = pq.run(params(wait=True, expected_value=3.14), http=answers, sleep=clock.sleep, clock=clock)
    assert result["matched"] and result["polls"] == 3 and clock.now == 2.0


def test_wait_for_empty():
    clock = Clock()
    result = pq.run(params(wait=True, wait_for="empty"), http=Answers(vector("1"), vector()),
                    sleep=clock.sleep, clock=clock)
    assert result["matched"] and result["polls"] == 2


def test_wait_times_out_with_the_last_result():
    clock = Clock()
    # Polls at 0, 1, 2, 3, 4 s; none at 5 s, the deadline: it would have no time left.
    with pytest.raises(pq.QueryError, match=r"did not return a non-empty result within 5.0 s \(5 polls\)"):
        pq.run(params(wait=True), http=Answers(vector()), sleep=clock.sleep, clock=clock)


def test_nan_and_inf_values_compare():
    assert pq.same_value("NaN", "NaN") and pq.same_value("+Inf", float("inf")) and pq.same_value("1e3", 1000)
    assert not pq.same_value("1", 2)


def test_rejected_query_shows_prometheus_error_text():
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error: unexpected <EOF>"})
    answers = Answers(HTTPRequestError("POST failed", status=400, body=body))
    with pytest.raises(pq.QueryError, match=r"rejected the query 'up\{' \(HTTP 400\): parse error: unexpected <EOF>"):
        pq.run(params(query="up{"), http=answers)


def test_scalar_results():
    answer = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}}
    assert pq.run(params(query="1+1"), http=Answers(answer))["sample_values"] == ["2"]


def test_expected_value_and_empty_contradict():
    with pytest.raises(pq.QueryError, match="expected_value cannot be combined"):
        pq.run(params(wait=True, wait_for="empty", expected_value=1), http=Answers(vector()))


def test_wait_rides_out_an_unreachable_prometheus():
    clock = Clock()
    down = HTTPRequestError("POST http://prom:9090/api/v1/query failed: Connection refused", status=None)
    answers = Answers(down, down, vector("1"))
    result = pq.run(params(wait=True), http=answers, sleep=clock.sleep, clock=clock)
    assert result["matched"] and result["polls"] == 3


def test_wait_ends_at_its_limit_with_the_last_error():
    clock = Clock()
    down = HTTPRequestError("POST http://prom:9090/api/v1/query failed: Connection refused", status=None)
    with pytest.raises(pq.QueryError, match=r"within 5.0 s \(5 polls\); last error: .*Connection refused"):
        pq.run(params(wait=True), http=Answers(down), sleep=clock.sleep, clock=clock)


def test_a_rejected_query_ends_the_wait_at_once():
    clock = Clock()
    rejected = HTTPRequestError("HTTP 400", status=400, body='{"error": "parse error"}')
    with pytest.raises(pq.QueryError, match="rejected the query"):
        pq.run(params(wait=True), http=Answers(rejected), sleep=clock.sleep, clock=clock)
    assert clock.now == 0


def test_without_wait_an_unreachable_prometheus_fails_at_once():
    down = HTTPRequestError("Connection refused", status=None)
    with pytest.raises(pq.QueryError, match="Connection refused"):
        pq.run(params(), http=Answers(down))


# --- wait_timeout bounds every request (a real slow endpoint: tests/integration/test_prometheus_query_deadline.py)

def test_every_poll_gets_the_wait_deadline():
    clock = Clock()
    answers = Answers(vector(), vector("1"))
    pq.run(params(wait=True, wait_timeout=5.0), http=answers, sleep=clock.sleep, clock=clock)
    assert answers.deadlines == [5.0, 5.0]
    plain = Answers(vector("1"))
    pq.run(params(), http=plain)
    assert plain.deadlines == [None]


def test_request_timeouts_are_cut_to_the_time_left_and_no_retry_starts_after_the_deadline(monkeypatch):
    import socket
    from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_http as http
    clock = Clock()
    timeouts = []

    def time_out(url, timeout=None, **kwargs):
        timeouts.append(timeout)
        clock.now += timeout
        raise socket.timeout("timed out")

    monkeypatch.setattr(http, "open_url", time_out)
    with pytest.raises(HTTPRequestError) as err:
        http.request(params(timeout=3.0, retries=5, retry_delay=0.5, retry_max_delay=0.5), "POST", "http://prom/x",
                     sleep=clock.sleep, deadline=7.0, clock=clock)
    assert timeouts == [3.0, 3.0]  # 0-3 s, 3.5-6.5 s; a third would start at 7 s, the deadline
    assert clock.now == 6.5 and "no time left to retry" in str(err.value) and err.value.attempts == 2


def test_no_request_is_sent_after_the_deadline(monkeypatch):
    from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_http as http
    monkeypatch.setattr(http, "open_url", lambda *args, **kwargs: pytest.fail("sent after the deadline"))
    clock = Clock()
    clock.now = 8.0
    with pytest.raises(HTTPRequestError, match="not sent: no time left"):
        http.request(params(), "POST", "http://prom/x", deadline=8.0, clock=clock)


# --- PromQL string escapes ---------------------------------------------------------------------------

@pytest.mark.parametrize("query, sent", [
    # json.dumps / to_json of "😀 ü": a surrogate pair PromQL rejects, and a BMP escape it accepts.
    ('up{team="\\ud83d\\ude00 \\u00fc"}', 'up{team="\\U0001F600 \\u00fc"}'),
    ("up{team='\\uD83D\\uDE00'}", "up{team='\\U0001F600'}"),
    ('up{a="\\\\ud83d\\\\ude00"}', 'up{a="\\\\ud83d\\\\ude00"}'),   # escaped backslashes: no escape there
    ('up{a=`\\ud83d\\ude00`}', 'up{a=`\\ud83d\\ude00`}'),         # raw string: no escapes at all
    ('up # "\\ud83d\\ude00"\n', 'up # "\\ud83d\\ude00"\n'),       # comment
    ('up{a="\\ud83d"}', 'up{a="\\ud83d"}'),                       # a lone half stays for Prometheus to refuse
    ('up{a="x\\"\\ud83d\\ude00"}', 'up{a="x\\"\\U0001F600"}'),
])
def test_surrogate_pair_escapes_become_one_code_point(query, sent):
    assert pq.promql_escapes(query) == sent


def test_the_query_is_sent_with_code_point_escapes():
    answers = Answers(vector("1"))
    pq.run(params(query='up{team="\\ud83d\\ude00"}'), http=answers)
    assert answers.forms == ["query=up%7Bteam%3D%22%5CU0001F600%22%7D"]


# --- options checked before any request --------------------------------------------------------------

def test_a_missing_ca_path_is_named_before_any_request(tmp_path):
    answers = Answers(vector("1"))
    missing = str(tmp_path / "missing-ca.pem")
    with pytest.raises(pq.QueryError) as err:
        pq.run(params(url="https://prom:9090", ca_path=missing), http=answers)
    assert str(err.value) == "ca_path: {0} is not a readable file".format(missing)
    assert answers.forms == []


def test_credentials_in_the_url_are_refused_without_echoing_them():
    answers = Answers(vector("1"))
    with pytest.raises(pq.QueryError) as err:
        pq.run(params(url="https://grafana:qu3ry-s3cret@prom:9090"), http=answers)
    assert str(err.value).startswith("url: credentials in the URL are not supported")
    assert "qu3ry-s3cret" not in str(err.value) and "grafana" not in str(err.value)
    assert answers.forms == []
