"""The cost exporter: cardinality capped at the top spenders, user ids hashed on request, the
snapshot shared through Redis and served as the ai_* gauges."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis

from app.jobs.cost_exporter import OTHER, CostExporter, SnapshotCollector, cap, relabel, user_label
from app.jobs.cost_sources import Reading


class _Source:
    async def read(self, now: datetime) -> Reading:
        return Reading(
            by_user={"a": 5.0, "b": 3.0, "c": 1.0},
            by_model={"gpt": 9.0},
            hourly=0.5,
            requests={("gpt", "true"): 2},
            latency_s={"gpt": 0.25},
        )


def test_cap_keeps_the_top_and_sums_the_rest() -> None:
    assert cap({"a": 5, "b": 3, "c": 1, "d": 1}, 2) == {"a": 5, "b": 3, OTHER: 2}
    assert cap({}, 2) == {OTHER: 0}


def test_hashed_labels_are_stable_and_keyed() -> None:
    assert user_label(b"k", "alice") == user_label(b"k", "alice") != user_label(b"j", "alice")
    labelled = relabel({"alice": 1.0, OTHER: 2.0}, b"k")
    assert labelled == {user_label(b"k", "alice"): 1.0, OTHER: 2.0}
    assert relabel({"alice": 1.0}, None) == {"alice": 1.0}


async def test_snapshot_is_shared_and_served(aredis: Redis, ns: str) -> None:
    leader = CostExporter(aredis, _Source(), snapshot_key=f"{ns}cost:snapshot", top_users=2)
    summary = await leader.compute(datetime(2026, 11, 27, 13, tzinfo=UTC))
    assert summary == {
        "users": 3,
        "models": 1,
        "daily_total_usd": 9.0,
        "hourly_usd": 0.5,
        "hourly_requests": 2,
    }
    replica = CostExporter(aredis, _Source(), snapshot_key=f"{ns}cost:snapshot", top_users=2)
    await replica.refresh()
    assert replica.latest is not None and replica.latest.daily_by_user == {"a": 5.0, "b": 3.0, OTHER: 1.0}
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(replica))
    text = generate_latest(registry).decode()
    assert 'ai_daily_cost_usd{model="_all",user_id="_other"} 1.0' in text
    assert 'ai_hourly_requests{cache_hit="true",model="gpt"} 2.0' in text
    assert "ai_hourly_cost_usd 0.5" in text


async def test_hashed_user_ids_never_reach_redis(aredis: Redis, ns: str) -> None:
    exporter = CostExporter(aredis, _Source(), snapshot_key=f"{ns}cost:snapshot", top_users=5)
    await exporter.compute(label_key=b"secret")
    stored = await aredis.get(f"{ns}cost:snapshot")
    assert stored is not None and '"a"' not in stored and user_label(b"secret", "a") in stored
