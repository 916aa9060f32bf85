"""pushgateway_metrics and prometheus_query against a real Pushgateway and Prometheus on loopback.

One Prometheus scrapes one Pushgateway every second through two jobs: ``pg-honor``
(``honor_labels: true``: a pushed ``job`` stays ``job``) and ``pg-plain``
(``honor_labels: false``: it becomes ``exported_job``).

Behaviour (label values, PUT/POST, delete, retries, 400) is tested by calling the
modules' own code in-process against the real services -- fast, and every request
is real. Check mode, idempotency and no_log are tested through Ansible itself
(``ansible-playbook`` / ``ansible localhost -m``), because that is where they live.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_client, prometheus_query
from tests.integration.services import start_pushgateway
from tests.playbook import BIN, REPO, ansible_env, run_playbook

NASTY = {
    "quote": 'say "hi"',
    "backslash": "C:\\temp\\x",
    "newline": "line1\nline2",
    "slash": "a/b/c",
    "empty": "",
    "unicode": "Grüße, 東京 ✓",
}
FAST_RETRIES = {"retries": 2, "retry_delay": 0.1, "retry_max_delay": 0.2, "timeout": 15}


def spec_params(spec, args):
    params = dict((k, v.get("default")) for k, v in spec.items())
    params.update(args)
    return params


def push(check_mode=False, **args):
    """pushgateway_metrics' code with real HTTP; returns the result or raises PushError."""
    return pushgateway_client.run(spec_params(pushgateway_client.ARGUMENT_SPEC, args), check_mode)


def push_error(**args):
    with pytest.raises(pushgateway_client.PushError) as err:
        push(**args)
    return err.value


def query(**args):
    return prometheus_query.run(spec_params(prometheus_query.ARGUMENT_SPEC, args))


def run_tasks(tasks, verbose=False, check=True):
    """Run ``tasks`` as one play on localhost (one Ansible start-up); returns (results by task name, output)."""
    play = [{"name": "pushgateway module test", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": tasks}]
    build = REPO / "build"
    build.mkdir(exist_ok=True)
    path = build / "pushgateway-it-{0}.yml".format(os.getpid())
    path.write_text(json.dumps(play))
    try:
        env = {"ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
        if not verbose:
            env.update(ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        proc = subprocess.run([str(BIN / "ansible-playbook"), str(path)] + (["-vvv"] if verbose else []),
                              cwd=str(REPO), env=ansible_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=180, check=False)
    finally:
        path.unlink()
    if check:
        assert proc.returncode == 0, proc.stdout
    if verbose:
        return None, proc.stdout
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return dict((t["task"]["name"], t["hosts"]["localhost"]) for t in data["plays"][0]["tasks"]), proc.stdout


def groups(pushgateway):
    with urllib.request.urlopen(pushgateway.url + "/api/v1/metrics", timeout=5) as response:
        return json.loads(response.read().decode("utf-8"))["data"]


def group(pushgateway, key):
    for entry in groups(pushgateway):
        if entry["labels"] == key:
            return entry
    return None


def family_names(entry):
    return sorted(k for k in entry if k not in ("labels", "last_push_successful", "push_time_seconds",
                                                "push_failure_time_seconds"))


def isolated_pushgateway(workdir, **kwargs):
    """A Pushgateway whose persistence file is its own (services.start_pushgateway sees to
    that: Debian's default file is shared by every Pushgateway on the machine)."""
    return start_pushgateway(str(workdir), **kwargs)


def push_args(pushgateway, **extra):
    args = dict(url=pushgateway.url, **FAST_RETRIES)
    args.update(extra)
    return args


def test_push_reaches_prometheus_with_exact_label_values(stack):
    pushgateway, prometheus = stack
    grouping = {"instance": "db/1", "site": NASTY["unicode"], "note": NASTY["quote"] + NASTY["backslash"],
                "blank": ""}
    metrics = [{"name": "it_backup_size_bytes", "value": 1234.5, "help": "Size of the \"last\" backup\nin bytes",
                "labels": dict(NASTY)}]
    result = push(**push_args(pushgateway, job="nightly/backup ü", grouping=grouping, metrics=metrics))
    assert result["changed"] is True and result["status"] == 200 and result["attempts"] == 1
    assert "job@base64/" in result["url"] and "blank@base64/=" in result["url"]

    # The Pushgateway holds the group under exactly this grouping key, with exactly these labels.
    entry = group(pushgateway, dict(grouping, job="nightly/backup ü"))
    assert entry is not None, groups(pushgateway)
    stored = entry["it_backup_size_bytes"]["metrics"][0]["labels"]
    for name, value in NASTY.items():
        assert stored[name] == value, name
    assert entry["it_backup_size_bytes"]["help"] == "Size of the \"last\" backup\nin bytes"

    # honor_labels true: job stays job. Every non-empty value comes back byte for byte.
    honored = query(url=prometheus.url, query='it_backup_size_bytes{job="nightly/backup ü"}', wait=True,
                    wait_timeout=20, wait_interval=0.3, expected_value=1234.5)
    labels = honored["result"][0]["metric"]
    assert honored["matched"] and labels["instance"] == "db/1" and labels["site"] == NASTY["unicode"]
    assert labels["note"] == NASTY["quote"] + NASTY["backslash"]
    for name, value in NASTY.items():
        if value:
            assert labels[name] == value, name
    assert "empty" not in labels and "blank" not in labels  # Prometheus: an empty label is an absent label

    # honor_labels false: the pushed job and instance become exported_*, job is the scrape job.
    plain = query(url=prometheus.url, query='it_backup_size_bytes{exported_job="nightly/backup ü"}', wait=True,
                  wait_timeout=20, wait_interval=0.3)
    labels = plain["result"][0]["metric"]
    assert labels["job"] == "pg-plain" and labels["exported_instance"] == "db/1"
    assert labels["newline"] == NASTY["newline"] and labels["quote"] == NASTY["quote"]
    assert not query(url=prometheus.url, query='it_backup_size_bytes{job="pg-honor"}')["result"]


def test_put_replaces_and_post_merges(stack):
    pushgateway, _prometheus = stack
    key = {"job": "semantics", "instance": "w1"}
    base = push_args(pushgateway, job="semantics", grouping={"instance": "w1"})
    push(**dict(base, metrics=[{"name": "it_a", "value": 1}, {"name": "it_b", "value": 1}]))
    assert family_names(group(pushgateway, key)) == ["it_a", "it_b"]

    post = push(**dict(base, method="post", metrics=[{"name": "it_b", "value": 2}]))
    assert post["changed"] is True and post["series_after"] == 2
    entry = group(pushgateway, key)
    assert family_names(entry) == ["it_a", "it_b"] and entry["it_b"]["metrics"][0]["value"] == "2"
    assert push(**dict(base, method="post", metrics=[{"name": "it_b", "value": 2}]))["changed"] is False

    put = push(**dict(base, method="put", metrics=[{"name": "it_b", "value": 2}]))
    assert put["changed"] is True and put["series_before"] == 2 and put["series_after"] == 1
    assert family_names(group(pushgateway, key)) == ["it_b"]


def test_histograms_and_counters_in_text_are_idempotent(stack):
    pushgateway, _prometheus = stack
    text = ("# HELP it_latency_seconds Latency.\n# TYPE it_latency_seconds histogram\n"
            'it_latency_seconds_bucket{le="0.5"} 1\nit_latency_seconds_bucket{le="+Inf"} 2\n'
            "it_latency_seconds_sum 1.5\nit_latency_seconds_count 2\n"
            "# TYPE it_runs counter\nit_runs 3\n# TYPE it_q summary\n"
            'it_q{quantile="0.9"} 0.1\nit_q_sum 1\nit_q_count 4\n')
    base = push_args(pushgateway, job="shapes", metrics_text=text)
    assert push(**base)["changed"] is True
    assert push(**base)["changed"] is False
    assert push(**dict(base, metrics_text=text.replace("it_runs 3", "it_runs 4")))["changed"] is True


def test_delete_removes_from_gateway_then_prometheus(stack):
    pushgateway, prometheus = stack
    base = push_args(pushgateway, job="to-delete", grouping={"instance": "x"})
    push(**dict(base, metrics=[{"name": "it_doomed", "value": 42}]))
    query(url=prometheus.url, query='it_doomed{job="to-delete"}', wait=True, wait_timeout=20, wait_interval=0.3,
          expected_value=42)

    assert push(check_mode=True, **dict(base, state="absent"))["changed"] is True
    assert group(pushgateway, {"job": "to-delete", "instance": "x"}) is not None
    deleted = push(**dict(base, state="absent"))
    assert deleted["changed"] is True and deleted["status"] == 202
    assert group(pushgateway, {"job": "to-delete", "instance": "x"}) is None
    gone = query(url=prometheus.url, query='it_doomed{job="to-delete"}', wait=True, wait_for="empty",
                 wait_timeout=20, wait_interval=0.3)
    assert gone["matched"] and gone["result"] == []

    again = push(**dict(base, state="absent"))
    assert again["changed"] is False and "status" not in again and again["warnings"]


def test_vendor_delete_with_instance_is_reported_as_a_no_op(stack):
    pushgateway, _prometheus = stack
    # Pushed as the vendor's docs push it: job only, no instance in the grouping key.
    push(**push_args(pushgateway, job="vendor-doc", metrics_text='test_metric{env="dev"} 3.14\n'))
    result = push(**push_args(pushgateway, job="vendor-doc", grouping={"instance": "10.0.0.1:9091"}, state="absent"))
    assert result["changed"] is False
    assert '{job="vendor-doc", instance="10.0.0.1:9091"}' in result["warnings"][0]
    assert "nothing was deleted" in result["warnings"][0]
    assert group(pushgateway, {"job": "vendor-doc"}) is not None  # still there, as after the vendor's curl


def test_vendor_lost_quotes_are_refused_before_sending(stack):
    pushgateway, _prometheus = stack
    err = push_error(**push_args(pushgateway, job="lost-quotes", metrics_text="test_metric{env=dev} 3.14\n"))
    assert "metrics_text: not valid Prometheus text format" in str(err) and "env=dev" in str(err)
    assert group(pushgateway, {"job": "lost-quotes"}) is None


def test_400_shows_the_gateways_message_without_retry(stack):
    pushgateway, _prometheus = stack
    # prometheus_client's parser accepts a repeated TYPE line; the Pushgateway's parser does not.
    text = '# TYPE it_dup gauge\nit_dup{n="1"} 1\n# TYPE it_dup gauge\nit_dup{n="2"} 2\n'
    err = push_error(**push_args(pushgateway, job="bad", metrics_text=text, retries=5))
    assert err.details["status"] == 400 and err.details["attempts"] == 1
    assert "not retried" in str(err) and "second TYPE line" in str(err)
    # A type clash with another group is refused by the Pushgateway, also with its own words.
    push(**push_args(pushgateway, job="clash-a", metrics=[{"name": "it_clash", "value": 1}]))
    err = push_error(**push_args(pushgateway, job="clash-b", metrics=[{"name": "it_clash", "value": 1,
                                                                       "type": "counter"}]))
    assert err.details["status"] == 400 and "inconsistent with existing metrics" in str(err)


def test_stopped_gateway_gives_bounded_retries_then_one_error(tmp_path):
    stopped = isolated_pushgateway(tmp_path)
    url = stopped.url
    stopped.stop()
    started = time.monotonic()
    err = push_error(url=url, job="x", metrics=[{"name": "it_x", "value": 1}], retries=3, retry_delay=0.2,
                     retry_max_delay=0.3, timeout=1)
    elapsed = time.monotonic() - started
    assert "gave up after 4 attempts" in str(err) and "Connection refused" in str(err)
    assert err.details["attempts"] == 4 and err.details["status"] is None
    assert 0.8 <= elapsed < 10  # three back-offs (0.2 + 0.3 + 0.3 s) happened, and it ended


def test_dot_and_dot_dot_values_reach_the_gateway(stack):
    pushgateway, _prometheus = stack
    # As path segments, "." and ".." would be normalised away (the Pushgateway answers 301/307/404).
    base = push_args(pushgateway, job=".", grouping={"instance": "..", "zone": "..."})
    key = {"job": ".", "instance": "..", "zone": "..."}
    pushed = push(**dict(base, metrics=[{"name": "it_dots", "value": 1}]))
    assert pushed["changed"] is True and pushed["status"] == 200
    assert "job@base64/Lg==" in pushed["url"] and "instance@base64/Li4=" in pushed["url"] and "zone/..." in pushed["url"]
    assert family_names(group(pushgateway, key)) == ["it_dots"]
    assert push(**dict(base, metrics=[{"name": "it_dots", "value": 1}]))["changed"] is False
    assert push(**dict(base, state="absent"))["status"] == 202
    assert group(pushgateway, key) is None


def test_duplicate_series_are_refused_and_leave_no_group_behind(stack):
    pushgateway, _prometheus = stack
    text = '# TYPE it_dup_series gauge\nit_dup_series{x="1"} 1\nit_dup_series{x="1"} 2\n'
    err = push_error(**push_args(pushgateway, job="dup-text", metrics_text=text))
    assert str(err).startswith('metrics_text: the series it_dup_series{x="1"} is given more than once')
    assert group(pushgateway, {"job": "dup-text"}) is None
    err = push_error(**push_args(pushgateway, job="dup-structured", grouping={"instance": "i"}, metrics=[
        {"name": "it_dup_series", "value": 1}, {"name": "it_dup_series", "value": 2, "labels": {"instance": "i"}}]))
    assert str(err).startswith("metrics: the series it_dup_series is given more than once")
    assert group(pushgateway, {"job": "dup-structured", "instance": "i"}) is None

    # What the module saves the user from: the same text sent as is is refused, and the
    # Pushgateway keeps a group holding nothing but the failed push.
    request = urllib.request.Request(pushgateway.url + "/metrics/job/dup-raw", data=text.encode(), method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    left = group(pushgateway, {"job": "dup-raw"})
    assert left["last_push_successful"] is False and family_names(left) == []


def test_an_emoji_in_a_label_value_verifies_through_to_json_escapes(stack):
    pushgateway, prometheus = stack
    team = "ops \U0001F600 Grüße"
    push(**push_args(pushgateway, job="emoji", grouping={"team": team}, metrics=[{"name": "it_emoji", "value": 5}]))
    # json.dumps, like Ansible's to_json, writes the emoji as a surrogate pair: \ud83d\ude00.
    selector = "it_emoji{{job={0},team={1}}}".format(json.dumps("emoji"), json.dumps(team))
    assert "\\ud83d\\ude00" in selector
    found = query(url=prometheus.url, query=selector, wait=True, wait_timeout=20, wait_interval=0.3, expected_value=5)
    assert found["matched"] and found["result"][0]["metric"]["team"] == team


def test_query_rejects_bad_promql_with_prometheus_message(stack):
    _pushgateway, prometheus = stack
    with pytest.raises(prometheus_query.QueryError) as err:
        query(url=prometheus.url, query="sum(", retries=3)
    assert "rejected the query" in str(err.value) and "HTTP 400" in str(err.value) and "parse error" in str(err.value)


@pytest.fixture(scope="module")
def auth_gateway(tmp_path_factory):
    from passlib.hash import bcrypt
    web_config = {"basic_auth_users": {"pusher": bcrypt.using(rounds=4, ident="2y").hash("it-s3cret-pw")}}
    gateway = isolated_pushgateway(tmp_path_factory.mktemp("pg-auth"), web_config=web_config)
    yield gateway
    gateway.stop()


def test_basic_auth_and_wrong_password(auth_gateway):
    args = dict(url=auth_gateway.url, job="auth", url_username="pusher", url_password="it-s3cret-pw",
                metrics=[{"name": "it_auth", "value": 1}], **FAST_RETRIES)
    assert push(**args)["changed"] is True
    err = push_error(**{**args, "url_password": "wrong-pw", "retries": 4})
    assert err.details["status"] == 401 and err.details["attempts"] == 1 and "wrong-pw" not in str(err)


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory):
    """HTTPS with a client certificate required, as behind a mutual-TLS proxy."""
    import ssl
    from tests.integration.tls import TestCA, write_pair
    directory = tmp_path_factory.mktemp("pg-tls")
    ca = TestCA()
    (directory / "ca.crt").write_text(ca.cert_pem)
    server_cert, server_key = write_pair(directory, "server", ca.issue("pushgateway", dns_names=["localhost"]))
    client_cert, client_key = write_pair(directory, "client", ca.issue("pusher", ip_addresses=(), client=True))
    web_config = {"tls_server_config": {"cert_file": server_cert, "key_file": server_key,
                                        "client_ca_file": str(directory / "ca.crt"),
                                        "client_auth_type": "RequireAndVerifyClientCert"}}
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    context.load_cert_chain(client_cert, client_key)
    gateway = isolated_pushgateway(directory / "pg", web_config=web_config, scheme="https", ssl_context=context)
    yield gateway, str(directory / "ca.crt"), client_cert, client_key
    gateway.stop()


def test_tls_with_ca_bundle_and_client_certificate(tls_gateway):
    gateway, ca_path, client_cert, client_key = tls_gateway
    args = dict(url=gateway.url, job="tls", metrics=[{"name": "it_tls", "value": 1}], ca_path=ca_path,
                client_cert=client_cert, client_key=client_key, **FAST_RETRIES)
    assert push(**args)["changed"] is True
    assert push(**args)["changed"] is False  # the GET of the current group went through TLS as well

    unverified = push_error(**{**args, "ca_path": None, "retries": 3})
    assert "failed TLS verification (not retried)" in str(unverified) and unverified.details["attempts"] == 1
    assert push(**{**args, "ca_path": None, "validate_certs": False, "force": True})["changed"] is True

    without_client_cert = push_error(**{**args, "client_cert": None, "client_key": None, "retries": 0})
    assert "Could not read the current groups" in str(without_client_cert)


def test_through_ansible_check_mode_idempotency_and_no_log(stack, auth_gateway):
    """One play: what only Ansible itself can show."""
    pushgateway, prometheus = stack
    module = "k8s_monitoring.prometheus.pushgateway_metrics"
    args = dict(url=pushgateway.url, job="ansible", grouping={"instance": ""}, retries=1, retry_delay=0.1,
                metrics_text='# TYPE it_ans gauge\nit_ans{path="/x"} 1\n# TYPE it_ans_total counter\nit_ans_total 7\n')
    changed_text = args["metrics_text"].replace("it_ans_total 7", "it_ans_total 8")
    tasks = [
        {"name": "check new", module: dict(args), "check_mode": True},
        {"name": "push", module: dict(args)},
        {"name": "push again", module: dict(args)},
        {"name": "check changed", module: dict(args, metrics_text=changed_text), "check_mode": True, "diff": True},
        {"name": "post same", module: dict(args, method="post")},
        {"name": "check delete", module: dict(args, state="absent", metrics_text=None), "check_mode": True},
        {"name": "query in check mode", "k8s_monitoring.prometheus.prometheus_query": {
            "url": prometheus.url, "query": "vector(7)"}, "check_mode": True},
        {"name": "bad text", module: dict(args, metrics_text="it_ans{x=y} 1\n"), "ignore_errors": True},
    ]
    results, _output = run_tasks(tasks)
    assert results["check new"]["changed"] is True and results["check new"]["series_before"] == 0
    assert results["push"]["changed"] is True
    assert results["push again"]["changed"] is False
    assert results["check changed"]["changed"] is True
    assert "it_ans_total 8" in results["check changed"]["diff"]["after"]
    assert results["post same"]["changed"] is False
    assert results["check delete"]["changed"] is True
    assert results["query in check mode"]["sample_values"] == ["7"]
    assert results["bad text"]["failed"] and "Invalid labels" in results["bad text"]["msg"]
    stored = group(pushgateway, {"job": "ansible", "instance": ""})
    assert stored["it_ans_total"]["metrics"][0]["value"] == "7"  # neither check-mode task sent anything

    secret_tasks = [
        {"name": "basic auth", module: {"url": auth_gateway.url, "job": "nolog", "url_username": "pusher",
                                        "url_password": "it-s3cret-pw", "metrics": [{"name": "it_nolog", "value": 1}]},
         "diff": True},
        {"name": "bearer", module: {"url": auth_gateway.url, "job": "nolog", "bearer_token": "it-t0ken-value",
                                    "retries": 0, "metrics": [{"name": "it_nolog", "value": 2}]},
         "ignore_errors": True},
        {"name": "query with password", "k8s_monitoring.prometheus.prometheus_query": {
            "url": prometheus.url, "query": "vector(1)", "url_username": "u", "url_password": "it-qu3ry-pw"}},
    ]
    _results, output = run_tasks(secret_tasks, verbose=True)
    assert "changed: [localhost]" in output and "401" in output
    for secret in ("it-s3cret-pw", "it-t0ken-value", "it-qu3ry-pw"):
        assert secret not in output


def test_credentials_in_the_url_are_refused_and_never_shown(stack):
    pushgateway, prometheus = stack
    with_credentials = pushgateway.url.replace("://", "://it-url-user:it-url-s3cret@")
    tasks = [
        {"name": "push", "k8s_monitoring.prometheus.pushgateway_metrics": {
            "url": with_credentials, "job": "url-creds", "metrics": [{"name": "it_creds", "value": 1}]},
         "ignore_errors": True, "vars": {"ansible_inject_invocation": True}},
        {"name": "query", "k8s_monitoring.prometheus.prometheus_query": {
            "url": prometheus.url.replace("://", "://it-url-user:it-url-s3cret@"), "query": "vector(1)"},
         "ignore_errors": True, "vars": {"ansible_inject_invocation": True}},
    ]
    _results, output = run_tasks(tasks, verbose=True)
    assert "ignored=2" in output and output.count("url: credentials in the URL are not supported") >= 2, output
    assert "it-url-s3cret" not in output and "it-url-user" not in output
    assert group(pushgateway, {"job": "url-creds"}) is None


def test_push_playbook_verifies_an_emoji_grouping_value(stack):
    pushgateway, prometheus = stack
    extra = {"pushgateway_push_url": pushgateway.url, "pushgateway_push_job": "awx-emoji",
             "pushgateway_push_grouping": {"team": "db \U0001F600"},
             "pushgateway_push_metrics_text": "# TYPE it_awx_emoji gauge\nit_awx_emoji 1\n",
             "pushgateway_verify_prometheus_url": prometheus.url, "pushgateway_verify_timeout": 30,
             "pushgateway_push_retry_delay": 0.1}
    pushed = run_playbook(REPO / "playbooks" / "pushgateway_push.yml", extra_vars=extra)
    assert "Wait until Prometheus has scraped the push" in pushed.stdout and "failed=0" in pushed.stdout


def test_push_and_delete_playbooks_verify_in_prometheus(stack):
    pushgateway, prometheus = stack
    extra = {"pushgateway_push_url": pushgateway.url, "pushgateway_push_job": "awx-job",
             # A survey gives strings: the grouping arrives as JSON text.
             "pushgateway_push_grouping": json.dumps({"instance": "runner-1", "team": "ops/db"}),
             "pushgateway_push_metrics_text": "# TYPE it_awx_runs gauge\nit_awx_runs 3\n",
             "pushgateway_verify_prometheus_url": prometheus.url, "pushgateway_verify_timeout": 30,
             "pushgateway_push_retry_delay": 0.1}
    pushed = run_playbook(REPO / "playbooks" / "pushgateway_push.yml", extra_vars=extra)
    assert "Wait until Prometheus has scraped the push" in pushed.stdout and "failed=0" in pushed.stdout
    assert group(pushgateway, {"job": "awx-job", "instance": "runner-1", "team": "ops/db"}) is not None

    deleted = run_playbook(REPO / "playbooks" / "pushgateway_delete.yml", extra_vars=extra)
    assert "failed=0" in deleted.stdout
    assert group(pushgateway, {"job": "awx-job", "instance": "runner-1", "team": "ops/db"}) is None
    assert not query(url=prometheus.url, query='it_awx_runs{job="awx-job"}')["result"]

    checked = run_playbook(REPO / "playbooks" / "pushgateway_push.yml", "--check", extra_vars=extra)
    assert "changed=1" in checked.stdout and "failed=0" in checked.stdout
    assert group(pushgateway, {"job": "awx-job", "instance": "runner-1", "team": "ops/db"}) is None

    missing = dict(extra)
    del missing["pushgateway_push_job"]
    refused = run_playbook(REPO / "playbooks" / "pushgateway_push.yml", extra_vars=missing, check=False)
    assert refused.returncode != 0 and "pushgateway_push_job" in refused.stdout
