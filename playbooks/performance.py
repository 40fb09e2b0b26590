"""Built-in performance playbooks: fall back, retry harder and cache more while latency,
errors or cache misses are high; page when critical or still firing after 10 minutes."""

from __future__ import annotations

from app.sdk import Alert, Context, playbook


@playbook(match='alertname="HighLatency"', cooldown="10m")
async def high_latency(alert: Alert, ctx: Context) -> None:
    """p95 latency is high: route to fallback providers and cache aggressively; page when
    critical, otherwise page if still firing in 10 minutes."""
    await ctx.flags.set("llm.fallback.enabled", "true", ttl="1h")
    await ctx.flags.set("cache.mode", "aggressive", ttl="1h")
    if alert.critical:
        await ctx.pagerduty.trigger()
    else:
        await ctx.follow_up("10m", "page_if_still_firing")
    await ctx.slack.post("#llm-performance", f"High latency: {alert.text}")


@playbook(match='alertname="HighErrorRate"', cooldown="10m")
async def high_error_rate(alert: Alert, ctx: Context) -> None:
    """Provider errors are high: enable fallback providers and raise retry attempts; page when critical."""
    await ctx.flags.set("llm.fallback.enabled", "true", ttl="1h")
    await ctx.flags.set("llm.retry.max_attempts", "5", ttl="1h")
    if alert.critical:
        await ctx.pagerduty.trigger()
    await ctx.slack.post("#llm-performance", f"High error rate: {alert.text}")


@playbook(match='alertname="LowCacheHitRate"', cooldown="30m")
async def low_cache_hit_rate(alert: Alert, ctx: Context) -> None:
    """The semantic cache is missing: relax its similarity threshold and extend TTLs."""
    await ctx.flags.set("cache.mode", "aggressive", ttl="2h")
    await ctx.flags.set("cache.similarity_threshold", "0.90", ttl="2h")
    await ctx.slack.post("#llm-performance", f"Low cache hit rate: {alert.text}")


@playbook(on="manual")
async def page_if_still_firing(alert: Alert, ctx: Context) -> None:
    """Follow-up target: page on-call because the alert is still firing after mitigation
    (follow-ups run only while their alert fires; the resolve cancels them)."""
    await ctx.pagerduty.trigger(f"still firing after mitigation: {alert.text}")
