"""Benchmark playbooks: one flag per alert, named by the alert's `n` label."""

from app.sdk import Alert, Context, playbook


@playbook(match='alertname="BenchFlag"')
async def bench_flag(alert: Alert, ctx: Context) -> None:
    """Set one flag per alert so its arrival can be observed."""
    await ctx.flags.set(f"bench.{alert.labels.get('n', '0')}", "on", ttl="10m")
