"""Built-in cost playbooks: cut LLM spend while the cost alerts fire; leases end on resolve."""

from __future__ import annotations

from app.sdk import Alert, Context, name_part, playbook

_MAX_FLAG_NAME = 200


@playbook(match='alertname="CostSpike"', cooldown="15m")
async def cost_spike(alert: Alert, ctx: Context) -> None:
    """Hourly spend is spiking: economy model tier, aggressive caching, half the rate limits."""
    await ctx.flags.set("llm.model_tier", "economy", ttl="2h")
    await ctx.flags.set("cache.mode", "aggressive", ttl="2h")
    await ctx.flags.set("ratelimit.factor", "0.5", ttl="2h")
    await ctx.slack.post("#cost-alerts", f"Cost spike: {alert.text}")


@playbook(match='alertname="DailyCostExceeded"', cooldown="1h")
async def daily_cost_exceeded(alert: Alert, ctx: Context) -> None:
    """The daily budget is spent: economy tier and aggressive caching; page when critical."""
    await ctx.flags.set("llm.model_tier", "economy", ttl="6h")
    await ctx.flags.set("cache.mode", "aggressive", ttl="6h")
    if alert.critical:
        await ctx.pagerduty.trigger()
    await ctx.slack.post("#cost-alerts", f"Daily LLM budget exceeded: {alert.text}")


@playbook(match='alertname="UserBudgetExceeded"', cooldown="30m")
async def user_budget_exceeded(alert: Alert, ctx: Context) -> None:
    """One user is over budget: throttle that user (`ratelimit.user.<user_id>`) and tell them.

    The user id is kept as given; characters flag names do not allow are encoded
    reversibly (`name_part`: `Alice.Bob` → `ratelimit.user._41lice._42ob`)."""
    user_id = alert.labels.get("user_id", "")
    flag = f"ratelimit.user.{name_part(user_id)}"
    if not user_id or len(flag) > _MAX_FLAG_NAME:
        ctx.log.warning("UserBudgetExceeded without a usable user_id label", user_id=user_id[:100])
        return
    await ctx.flags.set(flag, "0.1", ttl="24h")
    await ctx.notify.user(user_id, "budget_exceeded", alert.text)
