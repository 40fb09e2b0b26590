"""Built-in security playbooks: tighten guards and limits, tell the security channel, page when critical."""

from __future__ import annotations

from app.sdk import Alert, Context, playbook


@playbook(match='alertname="PIIDetectionSpike"', cooldown="15m")
async def pii_detection_spike(alert: Alert, ctx: Context) -> None:
    """PII detections spike: strict redaction, stop logging prompts; page when critical."""
    await ctx.flags.set("safety.pii_redaction", "strict", ttl="6h")
    await ctx.flags.set("logging.prompts", "off", ttl="6h")
    if alert.critical:
        await ctx.pagerduty.trigger()
    await ctx.slack.post("#security", f"PII detection spike: {alert.text}")


@playbook(match='alertname="PromptInjectionAttempts"', cooldown="15m")
async def prompt_injection_attempts(alert: Alert, ctx: Context) -> None:
    """Prompt-injection attempts: strict prompt guard, halve rate limits; page when critical."""
    await ctx.flags.set("safety.prompt_guard", "strict", ttl="6h")
    await ctx.flags.set("ratelimit.factor", "0.5", ttl="6h")
    if alert.critical:
        await ctx.pagerduty.trigger()
    await ctx.slack.post("#security", f"Prompt injection attempts: {alert.text}")


@playbook(match='alertname="FrequentRateLimits"', cooldown="15m")
async def frequent_rate_limits(alert: Alert, ctx: Context) -> None:
    """Clients keep hitting rate limits (abuse or a runaway client): tighter limits; page when critical."""
    await ctx.flags.set("ratelimit.factor", "0.5", ttl="2h")
    if alert.critical:
        await ctx.pagerduty.trigger()
    await ctx.slack.post("#security", f"Frequent rate limiting: {alert.text}")
