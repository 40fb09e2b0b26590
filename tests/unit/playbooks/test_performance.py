"""playbooks/performance.py: fall back, retry harder, cache more; page when critical or still firing."""

from __future__ import annotations

from app.testing import PlaybookKit, alert, resolved


async def test_high_latency_pages_at_once_when_critical(kit: PlaybookKit) -> None:
    outcome = await kit.send(alert("HighLatency", severity="critical"))
    assert outcome.kinds == [
        "flags.set",
        "flags.set",
        "pagerduty.trigger",
        "slack.post",
    ]
    assert outcome.flags == {"llm.fallback.enabled": "true", "cache.mode": "aggressive"}


async def test_high_latency_otherwise_pages_only_if_still_firing(kit: PlaybookKit) -> None:
    firing = alert("HighLatency", severity="warning")
    outcome = await kit.send(firing)
    assert ("followup.schedule", "page_if_still_firing") in outcome.calls
    assert "pagerduty.trigger" not in outcome.kinds
    await kit.send(resolved(firing))
    late = await kit.trigger("page_if_still_firing", firing, follow_up=True)
    assert late.run("page_if_still_firing").status == "skipped"
    assert late.calls == []


async def test_high_error_rate_retries_harder(kit: PlaybookKit) -> None:
    outcome = await kit.send(alert("HighErrorRate"))
    assert outcome.flags == {"llm.fallback.enabled": "true", "llm.retry.max_attempts": "5"}
    assert outcome.calls[-1] == ("slack.post", "#llm-performance")


async def test_low_cache_hit_rate_relaxes_the_cache(kit: PlaybookKit) -> None:
    outcome = await kit.send(alert("LowCacheHitRate"))
    assert outcome.flags == {"cache.mode": "aggressive", "cache.similarity_threshold": "0.90"}


async def test_plan_shows_the_actions_and_changes_nothing(kit: PlaybookKit) -> None:
    plan = await kit.plan(alert("HighLatency", severity="critical"))
    assert plan.run("high_latency").status == "would run"
    assert {a.status for a in plan.actions} == {"dry_run"}
    assert plan.flags == {} and await kit.flags() == {}
