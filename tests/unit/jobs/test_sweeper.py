"""The lease sweeper: expired leases end now and the sweep is recorded; nothing to do, no record."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from app.actions.flags import FlagStore
from app.engine.executions import ExecutionStore
from app.jobs.sweeper import sweep
from app.keys import Keys


async def test_a_sweep_that_changed_something_is_recorded(aredis: Redis, ns: str) -> None:
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    executions = ExecutionStore(aredis, Keys(ns), max_len=100, ttl_s=60)
    assert await sweep(flags, executions) == {"expired": {}}
    assert await executions.recent() == []
    await aredis.set(f"{ns}flags:b.flag", "base")
    # Taken a minute ago for a second (the keys themselves outlive the lease by the grace).
    flags.grace_ms = 3_600_000
    earlier = int(time.time() * 1000) - 60_000
    await flags.set("a.flag", "on", ttl_s=1, holder="alert:x", now_ms=earlier)
    await flags.set("b.flag", "on", ttl_s=1, holder="alert:x", now_ms=earlier)
    assert await sweep(flags, executions) == {"expired": {"a.flag": None, "b.flag": "base"}}
    (record,) = await executions.recent()
    assert record.playbook == "autonomic.sweeper" and record.source == "system"
    assert [(a.kind, a.target, a.result) for a in record.actions] == [
        ("flags.expire", "a.flag", {"effective": None}),
        ("flags.expire", "b.flag", {"effective": "base"}),
    ]
