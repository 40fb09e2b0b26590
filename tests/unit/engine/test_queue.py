"""The work queue's own rules: entry fields, seen marks, the replication wait, lanes on read.
(Behaviour shared with the embedded Redis is in tests/unit/test_store_contract.py.)"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from app.engine.lanes import HIGH, NORMAL, LanePolicy
from app.engine.queue import AlertQueue, Entry, NotReplicated, seen_mark
from app.keys import Keys


def test_seen_marks_record_firing_and_drop_resolved() -> None:
    assert seen_mark("firing", "fp") == "+fp"
    assert seen_mark("resolved", "fp") == "-fp"


def test_entry_fields_carry_only_what_is_set() -> None:
    plain = Entry("1-0", "key", "{}", "tp")
    assert plain.fields == {"k": "key", "a": "{}", "tp": "tp"}
    named = Entry("1-0", "key", "{}", "", run="pb", meta='{"source":"manual"}', lane=HIGH)
    assert named.fields == {"k": "key", "a": "{}", "tp": "", "run": "pb", "meta": '{"source":"manual"}'}


async def test_concurrent_enqueues_each_get_their_own_marks(aredis: Redis, ns: str) -> None:
    import asyncio

    queue = AlertQueue(aredis, Keys(ns), max_len=100, dedup_ttl_s=60)
    await queue.ensure_group()
    first = [("a", "{}", "", "+a", NORMAL), ("b", "{}", "", "+b", NORMAL)]
    second = [("b", "{}", "", "+b", NORMAL), ("c", "{}", "", "+c", HIGH)]
    results = await asyncio.gather(queue.enqueue(first), queue.enqueue(second))
    assert sorted(results) == [(1, 1), (2, 0)]
    assert await aredis.xlen(Keys(ns).lane(NORMAL)) == 2
    assert await aredis.xlen(Keys(ns).lane(HIGH)) == 1
    assert await aredis.zscore(Keys(ns).seen, "c") is not None


async def test_an_unreplicated_write_is_refused(aredis: Redis, ns: str) -> None:
    # No replica is attached to the test Redis, so WAIT 1 times out with 0.
    queue = AlertQueue(aredis, Keys(ns), max_len=100, dedup_ttl_s=60, wait_replicas=1, wait_timeout_s=0.01)
    with pytest.raises(NotReplicated, match="0 of 1"):
        await queue.enqueue([("a", "{}", "", "+a", NORMAL)])


async def test_a_lost_group_is_recreated_on_read(aredis: Redis, ns: str) -> None:
    queue = AlertQueue(aredis, Keys(ns), max_len=100, dedup_ttl_s=60, lanes=LanePolicy())
    assert await queue.read("c", 1, 1) == []  # NOGROUP: groups made, nothing read
    await queue.push({"k": "m", "a": "{}", "tp": ""})
    (entry,) = await queue.read("c", 1, 1)
    assert (entry.key, entry.lane) == ("m", HIGH)
