"""playbooks/cost.py: economy tier and caching while cost alerts fire, released on resolve."""

from __future__ import annotations

from app.testing import PlaybookKit, alert, resolved


async def test_cost_spike_takes_its_leases_and_messages(kit: PlaybookKit) -> None:
    firing = alert("CostSpike", annotations={"description": "spend is 3x the baseline"})
    outcome = await kit.send(firing)
    assert outcome.playbooks == ["cost_spike"]
    assert outcome.calls == [
        ("flags.set", "llm.model_tier"),
        ("flags.set", "cache.mode"),
        ("flags.set", "ratelimit.factor"),
        ("slack.post", "#cost-alerts"),
    ]
    assert outcome.flags == {
        "llm.model_tier": "economy",
        "cache.mode": "aggressive",
        "ratelimit.factor": "0.5",
    }
    assert outcome.actions[0].params["ttl_s"] == 7200
    slack = outcome.actions[-1]
    assert (slack.status, slack.params["text"]) == ("dry_run", "Cost spike: spend is 3x the baseline")

    after = await kit.send(resolved(firing))
    assert after.playbooks == ["autonomic.resolve"]
    assert after.flags == {}


async def test_a_refire_inside_the_cooldown_keeps_the_flags_and_skips_the_message(kit: PlaybookKit) -> None:
    await kit.send(alert("CostSpike"))
    again = await kit.send(alert("CostSpike"))  # a new episode, 15m cooldown not over
    assert [a.status for a in again.actions] == ["ok", "ok", "ok", "skipped"]
    assert again.flags["llm.model_tier"] == "economy"


async def test_daily_cost_exceeded_pages_only_when_critical(kit: PlaybookKit) -> None:
    warning = await kit.send(alert("DailyCostExceeded", severity="warning"))
    assert "pagerduty.trigger" not in warning.kinds
    critical = await kit.send(alert("DailyCostExceeded", severity="critical", team="x"))
    assert critical.kinds == [
        "flags.set",
        "flags.set",
        "pagerduty.trigger",
        "slack.post",
    ]


async def test_user_budget_exceeded_throttles_that_user(kit: PlaybookKit) -> None:
    outcome = await kit.send(alert("UserBudgetExceeded", user_id="Alice.Bob"))
    assert outcome.calls == [("flags.set", "ratelimit.user._41lice._42ob"), ("notify.user", "Alice.Bob")]
    assert outcome.flags == {"ratelimit.user._41lice._42ob": "0.1"}


async def test_user_budget_exceeded_without_a_user_does_nothing(kit: PlaybookKit) -> None:
    outcome = await kit.send(alert("UserBudgetExceeded"))
    assert outcome.run("user_budget_exceeded").status == "succeeded"
    assert outcome.calls == [] and outcome.flags == {}
