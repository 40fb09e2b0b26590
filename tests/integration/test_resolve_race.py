"""A resolve that arrives while the firing run is still paging, through the running service:
the resolve finds no incident and no thread yet, so the firing run, once its page and post
are through, resolves the incident and closes the thread itself. Nothing stays open."""

from __future__ import annotations

from collections.abc import Callable

import redis

from tests.integration.helpers import alert, executions, payload, post, resolved
from tests.support.fakes import PagerDutyFake, SlackFake
from tests.support.procs import Service, wait_for


def test_a_resolve_during_the_page_leaves_no_incident_open_and_no_thread_unanswered(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    pagerduty: PagerDutyFake,
    slack: SlackFake,
    sync_redis: redis.Redis,
    flag_prefix: str,
) -> None:
    # The page is held at PagerDuty for as long as the resolve takes: no action timeout fires.
    svc = start_service(**{**outside_env, "AUTONOMIC_ACTION_TIMEOUT": "60s"})
    firing = alert("HighLatency", severity="critical", fingerprint="race0001")
    pagerduty.hold.clear()
    post(svc.url, payload(firing))
    assert pagerduty.held.wait(30), "the page never reached PagerDuty"
    post(svc.url, payload(resolved(firing)))
    (release,) = wait_for(lambda: executions(svc.url, playbook="autonomic.resolve"), what="the resolve")
    # It released the flags, and found neither an incident nor a thread to act on.
    assert [(a["kind"], a["status"]) for a in release["actions"]] == [("flags.release_all", "ok")]
    assert sync_redis.get(flag_prefix + "llm.fallback.enabled") is None
    pagerduty.hold.set()

    (run,) = wait_for(
        lambda: [r for r in executions(svc.url, playbook="high_latency") if r["status"] != "running"],
        what="the firing run's end",
    )
    assert run["status"] == "succeeded", run
    by_kind = {a["kind"]: a for a in run["actions"]}
    assert by_kind["pagerduty.trigger"]["result"]["resolved"] == "the alert resolved while it was paged"
    assert by_kind["slack.post"]["result"]["resolved"] == "the alert resolved while it was posted"
    assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.events] == [
        ("trigger", by_kind["pagerduty.trigger"]["target"]),
        ("resolve", by_kind["pagerduty.trigger"]["target"]),
    ]
    (top,) = slack.top_level()
    (reply,) = slack.replies()
    assert reply["thread_ts"] == top["ts"] and "Resolved" in reply["text"]
