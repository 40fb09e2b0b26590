"""Follow-ups: due times from Redis's clock, bounded releases, cancelling one alert only."""

from __future__ import annotations

from redis.asyncio import Redis

from app.engine.followups import FollowUps
from app.engine.lanes import HIGH
from app.keys import Keys
from tests.unit.conftest import make_alert


async def test_the_due_time_comes_from_the_redis_clock(aredis: Redis, ns: str) -> None:
    followups = FollowUps(aredis, Keys(ns))
    seconds, micros = await aredis.time()
    result = await followups.schedule("k", "pb", make_alert(), 600)
    now_ms = seconds * 1000 + micros // 1000
    assert now_ms + 600_000 <= result["due_at_ms"] <= now_ms + 605_000
    assert await aredis.zscore(Keys(ns).followups, "k") == result["due_at_ms"]


async def test_release_moves_at_most_the_limit(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    followups = FollowUps(aredis, keys)
    for i in range(3):
        await followups.schedule(f"k{i}", "pb", make_alert(fingerprint=f"fp{i}"), -1)
    assert await followups.release_due(limit=2) == 2
    assert await followups.release_due(limit=2) == 1
    assert await aredis.xlen(keys.lane(HIGH)) == 3


async def test_cancel_touches_only_that_alert(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    followups = FollowUps(aredis, keys)
    await followups.schedule("a", "pb", make_alert(fingerprint="fpA"), 60)
    await followups.schedule("b", "pb", make_alert(fingerprint="fpB"), 60)
    assert await followups.cancel("fpA") == 1
    assert await aredis.zrange(keys.followups, 0, -1) == ["b"]
    assert not await aredis.exists(keys.followup("a"))
    assert await aredis.exists(keys.followup("b"))
