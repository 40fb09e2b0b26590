"""Which execution took a lease: kept with the retention TTL, read many at once."""

from __future__ import annotations

from redis.asyncio import Redis

from app.actions.lease_origins import LeaseOrigin, LeaseOrigins
from app.keys import Keys


async def test_origins_round_trip_and_unknown_records_are_skipped(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    origins = LeaseOrigins(aredis, keys, ttl_s=120)
    origin = LeaseOrigin(execution_id="ex-1", playbook="pb", source="manual", actor="alice", reason="load")
    await origins.record("operator:alice", "llm.mode", origin)
    await aredis.set(keys.lease_origin("alert:x", "llm.mode"), "not json")
    found = await origins.many([("operator:alice", "llm.mode"), ("alert:x", "llm.mode"), ("alert:y", "z")])
    assert found == {("operator:alice", "llm.mode"): origin}
    assert 0 < await aredis.ttl(keys.lease_origin("operator:alice", "llm.mode")) <= 120
    assert await origins.many([]) == {}
