"""Tombstones of resolved episodes: per episode, marked by whom, kept as long as dedup."""

from __future__ import annotations

from redis.asyncio import Redis

from app.engine.firing import RECONCILED_TOMBSTONE
from app.engine.tombstones import Tombstones
from app.keys import Keys
from tests.unit.conftest import make_alert


async def test_an_episode_is_marked_resolved(aredis: Redis, ns: str) -> None:
    tombstones = Tombstones(aredis, Keys(ns), ttl_s=3600)
    episode = make_alert(starts_at="2026-11-26T10:00:00.123Z")
    later = make_alert(starts_at="2026-11-26T12:00:00Z")
    assert not await tombstones.exists(episode)
    await tombstones.mark(episode)
    assert await tombstones.exists(episode) and not await tombstones.exists(later)
    assert tombstones.key(episode) == Keys(ns).resolved("fp1", episode.episode)
    assert await aredis.get(tombstones.key(episode)) == "1"
    assert 3500 < await aredis.ttl(tombstones.key(episode)) <= 3600


async def test_the_reconcilers_mark_is_distinct_and_the_ttl_at_least_a_minute(aredis: Redis, ns: str) -> None:
    tombstones = Tombstones(aredis, Keys(ns), ttl_s=5)
    await tombstones.mark(make_alert(), reconciled=True)
    assert await aredis.get(tombstones.key(make_alert())) == RECONCILED_TOMBSTONE
    assert 50 < await aredis.ttl(tombstones.key(make_alert())) <= 60
