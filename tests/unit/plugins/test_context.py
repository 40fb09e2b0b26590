"""The Context a playbook gets: custom actions with their idempotency key, follow-ups,
approval gates, dry-run, and the proxy that lets a sync playbook call it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from app.actions.flags import FlagStore
from app.actions.outside import Adapters
from app.errors import AwaitingApproval
from app.keys import Keys
from app.plugins.context import Context, SyncProxy
from app.plugins.facades import FlagActions
from app.plugins.recorder import Recorder
from tests.unit.conftest import make_alert


def _context(redis: Redis, ns: str, *, dry_run: bool = False, schedule: Any = None) -> Context:
    recorder = Recorder(dry_run=dry_run, paused=False, completed={}, persist=None, execution_id="ex-t")
    store = FlagStore(redis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    alert = make_alert()
    parts = {"recorder": recorder, "alert": alert, "adapters": Adapters(), "redis": redis, "keys": Keys(ns)}
    flags = FlagActions(store, recorder, holder="alert:fp1", tombstone="", default_ttl=60)
    return Context(
        alert=alert,
        execution_id="ex-t",
        playbook="pb",
        recorder=recorder,
        flags=flags,
        facade_parts=parts,
        schedule=schedule,
    )


async def test_custom_actions_get_the_idempotency_key_if_they_take_one(aredis: Redis, ns: str) -> None:
    ctx = _context(aredis, ns)
    keys: list[str] = []

    async def with_key(key: str) -> str:
        keys.append(key)
        return "sent"

    async def without() -> int:
        return 7

    first = await ctx.act("custom.send", "svc", with_key, size=3)
    second = await ctx.act("custom.count", "svc", without)
    assert (first.result, first.params) == ("sent", {"size": 3}) and keys == ["ex-t:0"]
    assert second.result == 7 and [a.kind for a in ctx.actions] == ["custom.send", "custom.count"]


async def test_follow_ups_are_scheduled_with_the_parsed_delay(aredis: Redis, ns: str) -> None:
    scheduled: list[tuple[str, str, float]] = []

    async def schedule(key: str, playbook: str, delay: float) -> dict[str, Any]:
        scheduled.append((key, playbook, delay))
        return {"due_at_ms": 1}

    record = await _context(aredis, ns, schedule=schedule).follow_up("10m", "page")
    assert record.status == "ok" and scheduled == [("ex-t:0", "page", 600.0)]
    failed = _context(aredis, ns)
    with pytest.raises(Exception, match="follow-ups are not available"):
        await failed.follow_up("1m", "page")


async def test_an_approval_stops_until_decided_and_dry_run_acts_on_nothing(aredis: Redis, ns: str) -> None:
    with pytest.raises(AwaitingApproval):
        await _context(aredis, ns).approval("restart api")
    ctx = _context(aredis, ns, dry_run=True)
    assert ctx.dry_run
    record = await ctx.flags.set("a.flag", "on")
    assert record.status == "dry_run" and await ctx.flags.get("a.flag") is None
    assert ctx.kube is ctx.kube  # each facade is built once


async def test_a_sync_playbook_calls_the_context_through_the_proxy(aredis: Redis, ns: str) -> None:
    ctx = _context(aredis, ns)
    proxy: Any = SyncProxy(ctx, asyncio.get_running_loop())

    def playbook() -> Any:
        proxy.flags.set("a.flag", "on")
        return proxy.alert.fingerprint

    assert await asyncio.to_thread(playbook) == "fp1"
    assert await ctx.flags.get("a.flag") == "on"
