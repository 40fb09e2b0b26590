"""Lease semantics of flags against the machine's Redis."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis.asyncio as aioredis

from app.actions.flags import FlagStore, InvalidFlagName

H1, H2 = "alert:aaa", "alert:bbb"


@pytest.fixture
def store(aredis: aioredis.Redis, ns: str) -> FlagStore:
    return FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=60)


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_set_then_release_restores_absent(store: FlagStore, aredis: aioredis.Redis, ns: str) -> None:
    outcome = await store.set("llm.model_tier", "economy", ttl_s=60, holder=H1)
    assert outcome.applied and outcome.value == "economy"
    assert await aredis.get(f"{ns}flags:llm.model_tier") == "economy"
    ttl = await aredis.pttl(f"{ns}flags:llm.model_tier")
    assert 60_000 < ttl <= 120_000  # lease TTL plus grace: the safety net
    assert await store.release("llm.model_tier", H1) is None
    assert await aredis.exists(f"{ns}flags:llm.model_tier", f"{ns}flags:llm.model_tier:leases") == 0
    assert await aredis.zcard(f"{ns}leases") == 0


async def test_baseline_value_comes_back_without_ttl(
    store: FlagStore, aredis: aioredis.Redis, ns: str
) -> None:
    await aredis.set(f"{ns}flags:cache.mode", "normal")
    await store.set("cache.mode", "aggressive", ttl_s=60, holder=H1)
    assert await store.get("cache.mode") == "aggressive"
    await store.release("cache.mode", H1)
    assert await aredis.get(f"{ns}flags:cache.mode") == "normal"
    assert await aredis.pttl(f"{ns}flags:cache.mode") == -1


@pytest.mark.parametrize("first_out", [H1, H2])
async def test_two_alerts_on_one_flag_resolve_in_either_order(
    store: FlagStore, aredis: aioredis.Redis, ns: str, first_out: str
) -> None:
    await aredis.set(f"{ns}flags:ratelimit.factor", "1.0")
    t = now_ms()
    await store.set("ratelimit.factor", "0.5", ttl_s=600, holder=H1, now_ms=t)
    await store.set("ratelimit.factor", "0.25", ttl_s=600, holder=H2, now_ms=t + 5)
    assert await store.get("ratelimit.factor") == "0.25"  # the most recent live lease wins
    remaining = H2 if first_out == H1 else H1
    after_first = await store.release("ratelimit.factor", first_out, now_ms=t + 10)
    assert after_first == ("0.25" if remaining == H2 else "0.5")
    assert await store.release("ratelimit.factor", remaining, now_ms=t + 20) == "1.0"
    assert await aredis.get(f"{ns}flags:ratelimit.factor") == "1.0"


async def test_renewal_by_same_holder_keeps_original_baseline(
    store: FlagStore, aredis: aioredis.Redis, ns: str
) -> None:
    await aredis.set(f"{ns}flags:x", "base")
    await store.set("x", "one", ttl_s=60, holder=H1)
    await store.set("x", "two", ttl_s=60, holder=H1)
    states = await store.active()
    assert [(s.name, s.value, s.baseline, len(s.leases)) for s in states] == [("x", "two", "base", 1)]
    await store.release("x", H1)
    assert await store.get("x") == "base"


async def test_expired_lease_is_swept_and_the_earlier_one_takes_over(store: FlagStore) -> None:
    t = now_ms()
    await store.set("llm.model_tier", "economy", ttl_s=600, holder=H1, now_ms=t)
    await store.set("llm.model_tier", "nano", ttl_s=5, holder=H2, now_ms=t + 1)
    assert await store.get("llm.model_tier") == "nano"
    assert await store.sweep(now_ms=t + 2_000) == {}  # nothing expired yet
    assert await store.sweep(now_ms=t + 6_000) == {"llm.model_tier": "economy"}
    assert await store.get("llm.model_tier") == "economy"
    assert await store.sweep(now_ms=t + 601_000) == {"llm.model_tier": None}
    assert await store.get("llm.model_tier") is None


async def test_release_holder_ends_all_its_leases_only(store: FlagStore) -> None:
    await store.set("a", "1", ttl_s=60, holder=H1)
    await store.set("b", "1", ttl_s=60, holder=H1)
    await store.set("b", "2", ttl_s=60, holder=H2)
    released = await store.release_holder(H1)
    assert released == {"a": None, "b": "2"}
    assert await store.get("a") is None and await store.get("b") == "2"
    assert await store.release_holder(H1) == {}


async def test_revert_ends_every_lease(store: FlagStore, aredis: aioredis.Redis, ns: str) -> None:
    await aredis.set(f"{ns}flags:cache.mode", "normal")
    await store.set("cache.mode", "aggressive", ttl_s=60, holder=H1)
    await store.set("cache.mode", "off", ttl_s=60, holder=H2)
    assert await store.revert("cache.mode", "operator:me") == (2, "normal")
    assert await store.release_holder(H1) == {}  # holder indexes were cleaned too
    assert await store.revert("cache.mode", "operator:me") == (0, "normal")


async def test_tombstone_refuses_a_late_lease(store: FlagStore, aredis: aioredis.Redis, ns: str) -> None:
    await aredis.set(f"{ns}resolved:fp", "1")
    outcome = await store.set("x", "1", ttl_s=60, holder=H1, tombstone=f"{ns}resolved:fp")
    assert not outcome.applied and outcome.refused_reason == "the alert has already resolved"
    assert await store.get("x") is None


async def test_every_change_is_published(store: FlagStore, aredis: aioredis.Redis, ns: str) -> None:
    pubsub = aredis.pubsub()
    await pubsub.subscribe(f"{ns}flags:changes")
    await pubsub.get_message(timeout=1)  # subscription confirmation
    await store.set("x", "1", ttl_s=60, holder=H1)
    await store.set("x", "1", ttl_s=60, holder=H2)  # same value: no change, no message
    await store.release_holder(H1)
    await store.release_holder(H2)
    messages = []
    while len(messages) < 2:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None, f"only {messages} arrived"
        messages.append(json.loads(message["data"]))
    assert [(m["flag"], m["value"]) for m in messages] == [("x", "1"), ("x", None)]
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2) is None
    await pubsub.aclose()


async def test_concurrent_sets_and_releases_leave_a_consistent_state(store: FlagStore) -> None:
    holders = [f"alert:{i}" for i in range(50)]
    await asyncio.gather(*(store.set("hot", str(i), ttl_s=60, holder=h) for i, h in enumerate(holders)))
    (state,) = await store.active()
    assert len(state.leases) == 50
    await asyncio.gather(*(store.release("hot", h) for h in holders))
    assert await store.get("hot") is None
    assert await store.active() == []


@pytest.mark.parametrize("name", ["Upper", "with space", "a:b", "", "x" * 201])
async def test_invalid_names_are_rejected(store: FlagStore, name: str) -> None:
    with pytest.raises(InvalidFlagName):
        await store.set(name, "1", ttl_s=1, holder=H1)


async def test_renew_extends_a_live_lease_to_its_ttl_past_the_sighting(
    store: FlagStore, aredis: aioredis.Redis, ns: str
) -> None:
    start = now_ms()
    await store.set("llm.model_tier", "economy", ttl_s=10, holder=H1, now_ms=start)
    await store.set("cache.mode", "aggressive", ttl_s=20, holder=H1, now_ms=start)
    # Seen firing 5s later: each lease lasts its own TTL past that.
    assert await store.renew({H1: start + 5000}, now_ms=start + 6000) == 2
    leases = {s.name: s.leases[0].expires_at_ms for s in await store.active()}
    assert leases == {"llm.model_tier": start + 15_000, "cache.mode": start + 25_000}
    assert await aredis.zscore(f"{ns}leases", "llm.model_tier") == start + 15_000
    # An older sighting never shortens a lease; the value key's safety net follows the lease.
    assert await store.renew({H1: start + 1000}, now_ms=start + 7000) == 0
    assert await aredis.pexpiretime(f"{ns}flags:llm.model_tier") == start + 15_000 + 60_000


async def test_renew_does_not_revive_an_expired_lease(store: FlagStore) -> None:
    start = now_ms()
    await store.set("llm.model_tier", "economy", ttl_s=1, holder=H1, now_ms=start)
    assert await store.renew({H1: start + 5000}, now_ms=start + 2000) == 0
    assert await store.sweep(now_ms=start + 2000) == {"llm.model_tier": None}
