"""Execution ids and records: only ids we issue reach Redis, records expire, actions replay."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from app.engine.executions import ExecutionStore, valid_id
from app.keys import Keys
from app.models import ActionRecord, Execution
from tests.unit.conftest import make_alert


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("ex-0123abcd", True),
        ("ex-revert-ab12", True),
        ("ex-", False),
        ("ex-1:actions", False),
        ("x-1", False),
    ],
)
def test_only_issued_id_shapes_are_valid(candidate: str, valid: bool) -> None:
    assert valid_id(candidate) is valid


async def test_records_and_actions_carry_the_retention_ttl(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    store = ExecutionStore(aredis, keys, max_len=10, ttl_s=120)
    execution = Execution(
        id="ex-1", playbook="pb", source="system", alert=make_alert(), started_at=time.time()
    )
    await store.start(execution)
    await store.complete_action("ex-1", ActionRecord(index=3, kind="k", target="t", status="ok"))
    assert 0 < await aredis.ttl(keys.execution("ex-1")) <= 120
    assert 0 < await aredis.ttl(keys.actions("ex-1")) <= 120
    _, completed, _ = await store.prior("ex-1", f"{ns}paused")
    assert list(completed) == [3]


async def test_the_finished_stream_is_capped(aredis: Redis, ns: str) -> None:
    store = ExecutionStore(aredis, Keys(ns), max_len=10, ttl_s=60)
    for i in range(300):
        await store.finish(Execution(id=f"ex-{i}", playbook="pb", source="system", alert=make_alert()))
    assert await aredis.xlen(Keys(ns).executions) < 300  # approximate trimming keeps it near the cap
    assert (await store.recent(limit=1))[0].id == "ex-299"


async def test_recent_bounds_by_finish_time(aredis: Redis, ns: str) -> None:
    store = ExecutionStore(aredis, Keys(ns), max_len=100, ttl_s=60)
    await store.finish(Execution(id="ex-a", playbook="pb", source="system", alert=make_alert()))
    assert await store.recent(until=time.time() - 3600) == []
    assert [e.id for e in await store.recent(since=time.time() - 3600)] == ["ex-a"]
    assert [e.id for e in await store.recent(alertname="HighLatency")] == ["ex-a"]
    assert await store.recent(alertname="Other") == []
