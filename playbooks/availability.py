"""Built-in availability playbooks: restart what is down, fail over, shed load, page."""

from __future__ import annotations

from app.sdk import KINDS, Alert, Context, Kind, playbook


def workload(alert: Alert) -> tuple[Kind, str, str] | None:
    """(kind, name, namespace) named by the alert's labels: `namespace` plus `deployment`,
    `statefulset` or `daemonset` (or `workload` with an optional `kind`)."""
    namespace = alert.labels.get("namespace", "")
    for kind in KINDS:
        if alert.labels.get(kind):
            return kind, alert.labels[kind], namespace
    if alert.labels.get("workload"):
        named = alert.labels.get("kind", "deployment").lower()
        for kind in KINDS:
            if kind == named:
                return kind, alert.labels["workload"], namespace
    return None


@playbook(match='alertname="ServiceDown"', cooldown="10m", timeout="2m")
async def service_down(alert: Alert, ctx: Context) -> None:
    """The service is down: fail over to the fallback providers, restart its workload, page."""
    await ctx.flags.set("llm.fallback.enabled", "true", ttl="1h")
    target = workload(alert)
    if target is None:
        ctx.log.warning("ServiceDown names no workload (labels namespace + deployment|statefulset|daemonset)")
    else:
        kind, name, namespace = target
        await ctx.kube.restart(kind, name, namespace)
    await ctx.pagerduty.trigger()
    await ctx.slack.post("#llm-oncall", f"Service down: {alert.text}")


@playbook(match='alertname="HighRequestQueue"', cooldown="10m")
async def high_request_queue(alert: Alert, ctx: Context) -> None:
    """Requests pile up: shed low-priority traffic, halve rate limits, page if still firing in 10m."""
    await ctx.flags.set("queue.shed_low_priority", "true", ttl="1h")
    await ctx.flags.set("ratelimit.factor", "0.5", ttl="1h")
    await ctx.slack.post("#llm-oncall", f"Request queue is high: {alert.text}")
    await ctx.follow_up("10m", "page_if_still_firing")
