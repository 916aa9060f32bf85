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

    def __call__(self, params, method, url, data=None, headers=None):
        assert method == "POST" and url.endswith("/api/v1/query")
        self.forms.append(data.decode())
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
    with pytest.raises(pq.QueryError, match=r"did not return a non-empty result within 5.0 s \(6 polls\)"):
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
    with pytest.raises(pq.QueryError, match=r"within 5.0 s \(6 polls\); last error: .*Connection refused"):
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
