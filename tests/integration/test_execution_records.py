"""Execution records are stored once: the record by id, the executions stream only names it."""

from __future__ import annotations

import time

import msgspec
from redis.asyncio import Redis

from app.engine.executions import ExecutionStore
from app.keys import Keys
from app.models import Alert, Execution


def _execution(ex_id: str, playbook: str, status: str = "succeeded") -> Execution:
    now = time.time()
    return Execution(
        id=ex_id,
        playbook=playbook,
        source="alertmanager",
        alert=Alert(status="firing", labels={"alertname": "RecordTest"}, fingerprint="fp1"),
        status=status,  # type: ignore[arg-type]
        started_at=now,
        finished_at=now,
    )


async def test_a_finished_record_is_stored_once_and_listed(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    store = ExecutionStore(aredis, keys, max_len=100, ttl_s=60)
    await store.finish(_execution("ex-one", "first"))
    await store.finish(_execution("ex-two", "second", "failed"))
    entries = await aredis.xrange(keys.executions)
    assert [fields for _, fields in entries] == [{"id": "ex-one"}, {"id": "ex-two"}]
    stored = await store.get("ex-two")
    assert stored is not None and stored.playbook == "second" and stored.status == "failed"
    assert [e.id for e in await store.recent()] == ["ex-two", "ex-one"]
    assert [e.id for e in await store.recent(status="failed")] == ["ex-two"]
    assert [e.id for e in await store.recent(limit=1, offset=1)] == ["ex-one"]


async def test_listing_skips_expired_records_and_reads_entries_of_the_previous_format(
    aredis: Redis, ns: str
) -> None:
    keys = Keys(ns)
    store = ExecutionStore(aredis, keys, max_len=100, ttl_s=60)
    legacy = _execution("ex-legacy", "old")
    await aredis.xadd(keys.executions, {"id": legacy.id, "record": msgspec.json.encode(legacy)})
    await store.finish(_execution("ex-gone", "expired"))
    await store.finish(_execution("ex-kept", "kept"))
    await aredis.delete(keys.execution("ex-gone"))  # its retention TTL passed
    assert [e.id for e in await store.recent()] == ["ex-kept", "ex-legacy"]
