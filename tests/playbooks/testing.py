"""Playbooks used by the integration tests (loaded by path via AUTONOMIC_PLAYBOOK_DIRS).

They count their side effects in Redis under the test's namespace (TEST_NS)
so a test can check that an effect happened exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from app.sdk import Alert, Context, PermanentError, TemporaryError, playbook

NS = os.environ.get("TEST_NS", "test:")
_client: aioredis.Redis | None = None


def client() -> aioredis.Redis:
    global _client
    if _client is None:
        url = os.environ["TEST_REDIS_URL"]
        if url.startswith("redis+cluster://"):  # the suite running on a Redis Cluster
            host, _, port = url.split("://", 1)[1].split(",")[0].rpartition(":")
            _client = aioredis.RedisCluster(host=host, port=int(port), decode_responses=True)  # type: ignore[assignment]
        else:
            _client = aioredis.Redis.from_url(url, decode_responses=True)
    assert _client is not None
    return _client


async def _incr(key: str) -> int:
    return int(await client().incr(NS + key))


@playbook(match='alertname="CrashTest"')
async def crash_midway(alert: Alert, ctx: Context) -> None:
    """Effect one, then wait (the test kills this replica here), then effect two."""
    await ctx.act("test.effect", "first", lambda: _incr("effects:first"))
    await ctx.flags.set("crash.flag", "on", ttl="10m")
    await client().set(NS + "midway", os.getpid())
    while not await client().exists(NS + "release"):
        await asyncio.sleep(0.02)
    await ctx.act("test.effect", "second", lambda: _incr("effects:second"))


@playbook(match='alertname="FlakyTest"')
async def flaky(alert: Alert, ctx: Context) -> None:
    """Fails with TemporaryError twice, then succeeds; the first effect must not repeat."""
    await ctx.act("test.effect", "before", lambda: _incr("effects:before"))
    attempt = await _incr("flaky:attempts")
    if attempt < 3:
        raise TemporaryError(f"upstream busy (attempt {attempt})", delay=0.01)
    await ctx.flags.set("flaky.flag", "done", ttl="10m")


@playbook(match='alertname="FailTest"')
async def always_fails(alert: Alert, ctx: Context) -> None:
    """Fails for good: the execution is failed and the entry dead-lettered."""
    raise PermanentError("cannot mitigate this")


@playbook(match='alertname="SlowTest"', timeout="200ms")
async def too_slow(alert: Alert, ctx: Context) -> None:
    """Never finishes in time."""
    await asyncio.sleep(30)


@playbook(match='alertname="SyncTest"')
def sync_playbook(alert: Alert, ctx: Context) -> None:
    """A plain function: runs in a thread, calls the context synchronously."""
    ctx.flags.set("sync.flag", alert.labels.get("value", "x"), ttl="10m")


@playbook(match='alertname="HoldTest"')
async def hold(alert: Alert, ctx: Context) -> None:
    """Sets a flag and waits until released by the test (for shutdown tests)."""
    await ctx.flags.set("hold.flag", "on", ttl="10m")
    await client().incr(NS + "hold:started")
    while not await client().exists(NS + "release"):
        await asyncio.sleep(0.02)
    await ctx.act("test.effect", "after-hold", lambda: _incr("effects:after-hold"))


class ScaleParams(BaseModel):
    replicas: int = Field(ge=1, le=10)


@playbook(on="manual", params=ScaleParams)
async def scale_chat(alert: Alert, ctx: Context) -> None:
    """Manual only: record the requested replica count in a flag."""
    assert isinstance(ctx.params, ScaleParams)
    await ctx.flags.set("manual.replicas", str(ctx.params.replicas), ttl="10m")


@playbook(match='alertname="GatedTest"', approval=True)
async def gated(alert: Alert, ctx: Context) -> None:
    """The whole playbook waits for an operator's approval."""
    await ctx.flags.set("gated.flag", "on", ttl="10m")


@playbook(match='alertname="ActionGateTest"')
async def action_gate(alert: Alert, ctx: Context) -> None:
    """One action waits for approval; the one before it runs at once (and only once)."""
    await ctx.act("test.effect", "before-gate", lambda: _incr("effects:before-gate"))
    await ctx.flags.set("gated.action", "on", ttl="10m", approval=True)


@playbook(match='alertname="CrashPage"')
async def crash_page(alert: Alert, ctx: Context) -> None:
    """Page and restart, then wait (the test kills this replica here), then set a flag."""
    await ctx.pagerduty.trigger()
    await ctx.kube.restart("deployment", "chat", "llm")
    await client().set(NS + "crashpage:" + alert.fingerprint, os.getpid())
    while not await client().exists(NS + "release"):
        await asyncio.sleep(0.02)
    await ctx.flags.set("crashpage." + alert.fingerprint, "done", ttl="10m")


@playbook(match='alertname="CrashEffect"')
async def crash_effect(alert: Alert, ctx: Context) -> None:
    """One side effect of the kind named by the `effect` label (the test kills the replica
    inside that call), then a flag that says the execution finished."""
    kind = alert.labels["effect"]
    if kind == "slack":
        await ctx.slack.post("#crash", f"effect {alert.fingerprint}")
    elif kind == "pagerduty":
        await ctx.pagerduty.trigger()
    elif kind == "notify":
        await ctx.notify.user("u1", "crash", "effect")
    elif kind == "kube":
        await ctx.kube.restart("deployment", "chat", "llm")
    elif kind == "act":

        async def effect(key: str) -> None:
            # A receiver that honours the idempotency key: the effect happens once per key.
            if await client().set(NS + "act:" + key, "1", nx=True):
                await _incr("effects:act")
            await client().set(NS + "inside", os.getpid())
            while not await client().exists(NS + "release"):
                await asyncio.sleep(0.02)

        await ctx.act("test.effect", "keyed", effect)
    await ctx.flags.set("crash.effect", kind, ttl="10m")


@playbook(match='alertname="HaTest"')
async def ha(alert: Alert, ctx: Context) -> None:
    """Hold the group's flag and count one effect per alert in TEST_REDIS_URL (outside the
    Redis under test): `runs` counts every execution, `effects` the ones whose idempotency
    key was new (what a receiver honouring the key would see)."""
    await ctx.flags.set("ha.g" + alert.labels["group"], "on", ttl="30m")

    async def effect(key: str) -> None:
        await client().hincrby(NS + "ha:runs", alert.fingerprint, 1)
        if await client().set(NS + "ha:key:" + key, "1", nx=True):
            await client().hincrby(NS + "ha:effects", alert.fingerprint, 1)

    await ctx.act("test.effect", "ha", effect)


@playbook(match='alertname="StormTest"')
async def storm(alert: Alert, ctx: Context) -> None:
    """Nothing to do: the storm test counts executions."""


@playbook(match='alertname="ActionFailTest"')
async def action_fails(alert: Alert, ctx: Context) -> None:
    """One action fails (recorded `failed`); the playbook carries on and succeeds."""

    async def boom() -> None:
        raise RuntimeError("the outside system said no")

    with contextlib.suppress(RuntimeError):
        await ctx.act("test.broken", "target", boom)
    await ctx.flags.set("after.failure", "on", ttl="10m")


@playbook(match='alertname="LevelTest"', cooldown="1h")
async def level(alert: Alert, ctx: Context) -> None:
    """A short lease (state: kept while the alert fires) and a counted page (an event: once per
    cooldown). The lease TTL comes from the alert's `ttl` label."""
    await ctx.flags.set("level.flag", "on", ttl=alert.labels.get("ttl", "3s"))
    await ctx.act("test.page", alert.name, lambda: _incr("pages:level"))


@playbook(match='alertname="LaneTest"')
async def lane_probe(alert: Alert, ctx: Context) -> None:
    """Records the order alerts ran in (by their `n` label), an effect once per alert, and
    with label hold="yes" waits for the test's release key before a second effect."""
    await ctx.act("test.effect", "first", lambda: _incr(f"effects:lane:{alert.fingerprint}:first"))
    await client().rpush(NS + "lane:order", alert.labels.get("n", ""))
    if alert.labels.get("hold") == "yes":
        await client().incr(NS + "lane:holding")
        while not await client().exists(NS + "release"):
            await asyncio.sleep(0.02)
    await ctx.act("test.effect", "second", lambda: _incr(f"effects:lane:{alert.fingerprint}:second"))


@playbook(match='alertname="LevelEachTime"')
async def level_each_time(alert: Alert, ctx: Context) -> None:
    """`level` without a cooldown: only `state_only` keeps a re-apply from paging again."""
    await ctx.flags.set("level.each", "on", ttl=alert.labels.get("ttl", "3s"))
    await ctx.act("test.page", alert.name, lambda: _incr("pages:level_each_time"))
