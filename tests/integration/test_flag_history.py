"""The flag-change history against the machine's Redis: flags.lua appends every value change
(with the holder after it) to a capped stream, and the periods a flag held a leased value
come out of it, including one already held when the window opens."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from app.actions.flag_history import FlagHistory
from app.actions.flags import FlagStore
from app.keys import Keys

A, B = "alert:aaa", "operator:dana"


@pytest.fixture
def store(aredis: aioredis.Redis, ns: str) -> FlagStore:
    return FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=60)


async def test_changes_and_periods(store: FlagStore, aredis: aioredis.Redis, ns: str) -> None:
    history = FlagHistory(aredis, Keys(ns).flag_history)
    before = time.time() - 1
    await aredis.set(f"{ns}flags:cache.mode", "normal")  # a baseline, set outside Autonomic
    await store.set("cache.mode", "aggressive", ttl_s=600, holder=A)
    await store.set("cache.mode", "aggressive", ttl_s=600, holder=A)  # a renewal: no change
    await store.set("llm.model_tier", "economy", ttl_s=600, holder=A)
    await store.set("llm.model_tier", "premium", ttl_s=600, holder=B)  # the newest lease wins
    await store.release("llm.model_tier", B)  # back to A's value
    await store.release_holder(A)  # the alert resolves: both flags return to baseline
    changes = await history.changes(before)
    assert [(c.flag, c.value, c.holder) for c in changes[:4]] == [
        ("cache.mode", "aggressive", A),
        ("llm.model_tier", "economy", A),
        ("llm.model_tier", "premium", B),
        ("llm.model_tier", "economy", A),
    ]
    # The resolve ends both in one call (in no particular order).
    assert sorted((c.flag, c.value or "", c.holder, c.reason) for c in changes[4:]) == [
        ("cache.mode", "normal", "", f"released by {A}"),
        ("llm.model_tier", "", "", f"released by {A}"),
    ]
    periods, _ = await history.periods(before, time.time() + 1)
    assert [(p.flag, p.value, p.holder, p.end is None) for p in periods] == [
        ("cache.mode", "aggressive", A, False),
        ("llm.model_tier", "economy", A, False),
        ("llm.model_tier", "premium", B, False),
        ("llm.model_tier", "economy", A, False),
    ]


async def test_a_period_open_before_the_window_starts_at_the_window(
    store: FlagStore, aredis: aioredis.Redis, ns: str
) -> None:
    history = FlagHistory(aredis, Keys(ns).flag_history)
    await store.set("ratelimit.factor", "0.5", ttl_s=600, holder=A)
    window = time.time() + 0.01
    while time.time() <= window:  # the next stream id must be past the window start
        await aredis.ping()
    periods, changes = await history.periods(window, window + 3600)
    assert changes == []
    (held,) = periods
    assert (held.value, held.holder, held.start, held.end) == ("0.5", A, window, None)
