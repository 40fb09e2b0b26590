"""Actions through the running service: exactly-once effects under duplicates and reclaim,
follow-ups, failures recorded and dead-lettered, secrets kept out of logs and records."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import redis

from tests.conftest import NOTIFY_TOKEN, PD_ROUTING_KEY, SLACK_TOKEN
from tests.integration.helpers import OPERATOR, alert, executions, payload, post, resolved
from tests.support.fakes import PagerDutyFake, SlackFake
from tests.support.kube import KubeEmulator, deployment
from tests.support.procs import Service, wait_for


def test_service_down_twice_and_reclaimed_restarts_and_pages_once(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    slack: SlackFake,
    pagerduty: PagerDutyFake,
    kube: KubeEmulator,
    sync_redis: redis.Redis,
    ns: str,
) -> None:
    kube.add(deployment("chat", "llm"))
    slack.hold.clear()  # the Slack post (last action) hangs: the replica dies after restart + page
    a = start_service(name="a", **outside_env)
    firing = alert("ServiceDown", severity="critical", namespace="llm", deployment="chat")
    assert post(a.url, payload(firing)).json() == {"accepted": 1, "duplicates": 0}
    assert post(a.url, payload(firing)).json() == {"accepted": 0, "duplicates": 1}  # HA pair / re-send
    assert slack.held.wait(30), "execution never reached the Slack post"
    a.kill()
    slack.hold.set()

    b = start_service(name="b", **outside_env)
    (run,) = wait_for(lambda: executions(b.url, playbook="service_down"), timeout=30, what="reclaimed run")
    assert run["status"] == "succeeded", run
    assert len(kube.requests("PATCH", "/deployments/chat")) == 1
    assert len(pagerduty.actions("trigger")) == 1
    assert len(slack.messages) == 1  # the held post landed; the takeover found it, did not repost
    assert [a["kind"] for a in run["actions"]] == [
        "flags.set",
        "kube.restart",
        "pagerduty.trigger",
        "slack.post",
    ]
    assert sync_redis.xlen(f"{ns}executions") == 1


def test_follow_up_pages_when_due_and_resolve_cancels_it(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    pagerduty: PagerDutyFake,
    sync_redis: redis.Redis,
    ns: str,
) -> None:
    before = start_service(name="before", **outside_env)
    first, second = alert("HighRequestQueue"), alert("HighRequestQueue", shard="2")
    post(before.url, payload(first, second))
    wait_for(lambda: sync_redis.zcard(f"{ns}followups") == 2, what="two follow-ups scheduled")
    before.stop()  # follow-ups live in Redis: a restart loses none
    svc = start_service(name="after", **outside_env)
    # Resolve one; bring the other's due time forward instead of waiting ten minutes.
    post(svc.url, payload(resolved(second)))
    wait_for(lambda: sync_redis.zcard(f"{ns}followups") == 1, what="resolve cancelled one")
    (key,) = sync_redis.zrange(f"{ns}followups", 0, -1)
    sync_redis.zadd(f"{ns}followups", {key: 0})
    (page,) = wait_for(lambda: executions(svc.url, playbook="page_if_still_firing"), what="follow-up ran")
    assert page["source"] == "followup"
    assert page["status"] == "succeeded"
    (event,) = pagerduty.actions("trigger")
    assert event["dedup_key"] == f"autonomic-{first['fingerprint']}"
    assert "still firing" in event["payload"]["summary"]


def test_failing_api_is_recorded_and_dead_lettered_others_unaffected(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    pagerduty: PagerDutyFake,
    slack: SlackFake,
    sync_redis: redis.Redis,
    flag_prefix: str,
    ns: str,
) -> None:
    pagerduty.fail_next(100, 500)
    svc = start_service(**outside_env)
    post(svc.url, payload(alert("FrequentRateLimits", severity="critical"), alert("CostSpike")))
    runs = wait_for(lambda: (r := executions(svc.url)) and len(r) == 2 and r, what="two runs")
    by = {r["playbook"]: r for r in runs}
    failed = by["frequent_rate_limits"]
    assert failed["status"] == "failed"
    assert "pagerduty trigger failed after 4 tries" in failed["error"]
    assert [(a["kind"], a["status"]) for a in failed["actions"]][-1] == ("pagerduty.trigger", "failed")
    assert by["cost_spike"]["status"] == "succeeded"
    assert sync_redis.get(flag_prefix + "llm.model_tier") == "economy"
    dead = wait_for(lambda: sync_redis.xrange(f"{ns}dead"), what="dead letter")
    assert dead[0][1]["playbook"] == "frequent_rate_limits"
    assert len([r for r in pagerduty.requests if r["status"] == 500]) >= 4


def test_secrets_never_appear_in_logs_or_records(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    slack: SlackFake,
) -> None:
    slack.fail_next(100, 500)
    svc = start_service(**outside_env, AUTONOMIC_LOG_LEVEL="debug")
    post(svc.url, payload(alert("CostSpike"), alert("UserBudgetExceeded", user_id="u1")))
    wait_for(lambda: len(executions(svc.url)) == 2, what="executions")
    records = httpx.get(f"{svc.url}/api/executions", headers=OPERATOR).text
    dead = httpx.get(f"{svc.url}/metrics").text
    svc.stop()
    logs = svc.logs()
    for secret in (
        SLACK_TOKEN,
        PD_ROUTING_KEY,
        NOTIFY_TOKEN,
        "test-webhook-token-0123456789",
        "test-operator-token-0123456789",
    ):
        assert secret not in logs
        assert secret not in records
        assert secret not in dead
