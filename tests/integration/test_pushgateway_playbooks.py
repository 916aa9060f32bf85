"""playbooks/pushgateway_push.yml and pushgateway_delete.yml (AWX job templates) beside other groups.

A real Pushgateway scraped by a real Prometheus through two jobs, ``honor_labels`` true
and false (the `stack` fixture of conftest.py). Each playbook's verification must look at its
own group only: other instances of the same job stay, and an unchanged push that is not
sent (``pushgateway_push_force: false``) still verifies.
"""

import json
import time

import pytest

from tests.integration.services import start_pushgateway
from tests.integration.test_pushgateway_metrics import FAST_RETRIES, group, push, query
from tests.playbook import REPO, recap, run_playbook

PUSH = REPO / "playbooks" / "pushgateway_push.yml"
DELETE = REPO / "playbooks" / "pushgateway_delete.yml"


def survey(pushgateway, prometheus, job, grouping, **extra):
    variables = {"pushgateway_push_url": pushgateway.url, "pushgateway_push_job": job,
                 "pushgateway_push_grouping": json.dumps(grouping),
                 "pushgateway_push_metrics_text": "# TYPE it_playbook_runs gauge\nit_playbook_runs 1\n",
                 "pushgateway_verify_prometheus_url": prometheus.url, "pushgateway_verify_timeout": 20,
                 "pushgateway_push_retry_delay": 0.1}
    variables.update(extra)
    return variables


def push_directly(pushgateway, prometheus, job, grouping):
    """Another group of the same job, pushed and scraped (both scrape jobs) before the playbook runs."""
    push(url=pushgateway.url, job=job, grouping=grouping, metrics_text="it_other_group 1\n", **FAST_RETRIES)
    query(url=prometheus.url, query='count(it_other_group{{job="{0}"}} or it_other_group{{exported_job="{0}"}}) == 2'
          .format(job), wait=True, wait_timeout=20, wait_interval=0.3)


def still_in_prometheus(prometheus, job):
    return query(url=prometheus.url, query='it_other_group{{job="{0}"}} or it_other_group{{exported_job="{0}"}}'
                 .format(job))["result"]


@pytest.mark.parametrize("deleted,other", [
    ({"instance": "runner-1", "team": "ops"}, {"instance": "runner-2", "team": "ops"}),
    ({"team": "ops"}, {"instance": "runner-2", "team": "ops"}),  # pushed without instance
])
def test_delete_verifies_only_its_group_while_other_instances_stay(stack, deleted, other):
    """12.17 (a): other instances of the job kept the old verification waiting until it failed."""
    pushgateway, prometheus = stack
    job = "awx-delete-{0}".format(len(deleted))
    variables = survey(pushgateway, prometheus, job, deleted)
    run_playbook(PUSH, extra_vars=variables)
    push_directly(pushgateway, prometheus, job, other)

    deleted_run = run_playbook(DELETE, extra_vars=variables, check=False)
    assert deleted_run.returncode == 0, deleted_run.stdout
    assert recap(deleted_run.stdout)["localhost"]["failed"] == 0
    assert group(pushgateway, dict(deleted, job=job)) is None
    assert group(pushgateway, dict(other, job=job)) is not None
    assert len(still_in_prometheus(prometheus, job)) == 2  # the other group, through both scrape jobs


def test_push_verifies_its_own_group_not_another_instance(stack, tmp_path):
    """A fresh push of another instance of the job must not satisfy the check of this one."""
    pushgateway, prometheus = stack
    job = "awx-push-own"
    push_directly(pushgateway, prometheus, job, {"instance": "runner-2"})
    unscraped = start_pushgateway(str(tmp_path / "unscraped"))  # Prometheus never sees what goes here
    try:
        variables = survey(unscraped, prometheus, job, {"instance": "runner-1"}, pushgateway_verify_timeout=3)
        refused = run_playbook(PUSH, extra_vars=variables, check=False)
    finally:
        unscraped.stop()
    assert refused.returncode != 0
    assert recap(refused.stdout)["localhost"]["failed"] == 1
    assert "Wait until Prometheus has scraped the push" in refused.stdout


def test_unchanged_push_without_force_verifies(stack):
    """12.17 (b): with pushgateway_push_force false an unchanged group is not sent, and the check must pass."""
    pushgateway, prometheus = stack
    variables = survey(pushgateway, prometheus, "awx-no-force", {"instance": "runner-1"},
                       pushgateway_push_force=False)
    first = run_playbook(PUSH, extra_vars=variables)
    assert recap(first.stdout)["localhost"]["changed"] == 1
    key = {"job": "awx-no-force", "instance": "runner-1"}
    pushed_at = group(pushgateway, key)["push_time_seconds"]["metrics"][0]["value"]

    # A re-run later than the clock-skew window: the group's push time is older than the run.
    time.sleep(max(0.0, float(pushed_at) + 1.5 - time.time()))
    again = run_playbook(PUSH, extra_vars=dict(variables, pushgateway_verify_clock_skew=0), check=False)
    assert again.returncode == 0, again.stdout
    assert recap(again.stdout)["localhost"] == dict(recap(again.stdout)["localhost"], changed=0, failed=0)
    assert "Wait until Prometheus has scraped the push" in again.stdout
    assert group(pushgateway, key)["push_time_seconds"]["metrics"][0]["value"] == pushed_at  # nothing sent
