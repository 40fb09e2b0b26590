"""Data lifecycle: streams trimmed by age, idle flag metrics forgotten, dated indices retired
only after a verified snapshot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from redis.asyncio import Redis

from app.jobs.lifecycle import IndexRetention, RetentionError, index_date, prune_flag_metrics, trim_streams
from app.keys import Keys
from tests.support.fakes import ElasticFake

TODAY = date(2026, 11, 27)


async def test_streams_are_trimmed_by_age(aredis: Redis, ns: str) -> None:
    stream = f"{ns}executions"
    now_ms = int(time.time() * 1000)
    await aredis.xadd(stream, {"x": "old"}, id=f"{now_ms - 7_200_000}-0")
    await aredis.xadd(stream, {"x": "new"}, id=f"{now_ms - 60_000}-0")
    assert await trim_streams(aredis, {stream: 3600}) == {stream: 1}
    assert [f["x"] for _, f in await aredis.xrange(stream)] == ["new"]


async def test_idle_unleased_flags_lose_their_metrics(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    old = (time.time() - 7200) * 1000
    await aredis.hset(keys.flag_changed_at, mapping={"idle": old, "held": old, "fresh": time.time() * 1000})
    await aredis.hset(
        keys.flag_changes, mapping={"idle|set": 1, "idle|expired": 1, "held|set": 1, "fresh|set": 1}
    )
    await aredis.zadd(keys.leases, {"held": 1})
    assert await prune_flag_metrics(aredis, keys, 3600) == 1
    assert sorted(await aredis.hkeys(keys.flag_changes)) == ["fresh|set", "held|set"]
    assert sorted(await aredis.hkeys(keys.flag_changed_at)) == ["fresh", "held"]


def test_index_dates() -> None:
    assert index_date("logs-20260101", ["logs"]) == date(2026, 1, 1)
    assert index_date("logs-2026.01.02", ["logs"]) == date(2026, 1, 2)
    assert index_date("other-20260101", ["logs"]) is None
    assert index_date("logs-20261399", ["logs"]) is None


@pytest.fixture
def elastic() -> Iterator[ElasticFake]:
    fake = ElasticFake(["logs-20261101", "logs-20261126", "logs-2026.10.01", "audit-20200101"])
    yield fake
    fake.stop()


def _retention(elastic: ElasticFake, dry_run: bool = False) -> IndexRetention:
    return IndexRetention(
        httpx.AsyncClient(base_url=elastic.url), ["logs"], 14, "autonomic-retention", dry_run
    )


async def test_expired_indices_are_snapshotted_then_deleted(elastic: ElasticFake) -> None:
    assert (await _retention(elastic, dry_run=True).run(TODAY))["deleted"] == []
    assert elastic.deleted == []
    result = await _retention(elastic).run(TODAY)
    assert result["deleted"] == ["logs-2026.10.01", "logs-20261101"]
    assert sorted(elastic.deleted) == ["logs-2026.10.01", "logs-20261101"]
    assert (await _retention(elastic).run(TODAY))["expired"] == []


async def test_a_failed_snapshot_deletes_nothing(elastic: ElasticFake) -> None:
    elastic.snapshot_state = "PARTIAL"
    with pytest.raises(RetentionError, match="nothing deleted"):
        await _retention(elastic).run(TODAY)
    assert elastic.deleted == []
