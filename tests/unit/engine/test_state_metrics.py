"""Shared-state metrics: one read of Redis per scrape, stale figures flagged, not dropped."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis

from app.engine.state_metrics import SEP, StateCollector, StateMetrics
from app.keys import Keys


def _scrape(source: StateMetrics | None) -> str:
    registry = CollectorRegistry()
    registry.register(StateCollector(source))
    return generate_latest(registry).decode()


async def test_a_read_is_served_as_metrics(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    await aredis.zadd(keys.leases, {"llm.mode": 1})
    await aredis.hset(keys.flag_changes, mapping={f"llm.mode{SEP}set": 3, f"old.flag{SEP}expired": 1})
    await aredis.hset(keys.job_successes, "sweeper", "1700000000.5")
    await aredis.xadd(keys.dead, {"reason": "x"})
    await aredis.set(f"{ns}flags:autonomic.paused", "true")
    metrics = StateMetrics(aredis, keys, paused_key=f"{ns}flags:autonomic.paused")
    state = await metrics.refresh()
    assert state.ok and state.paused and state.active == {"llm.mode"} and state.dead_letters == 1
    text = _scrape(metrics)
    assert 'autonomic_mitigation_active{flag="llm.mode"} 1.0' in text
    assert 'autonomic_mitigation_active{flag="old.flag"} 0.0' in text
    assert 'autonomic_flag_changes_total{flag="llm.mode",reason="set"} 3.0' in text
    assert 'autonomic_job_last_success_timestamp_seconds{job_id="sweeper"} 1.7000000005e+09' in text
    assert "autonomic_state_read_ok 1.0" in text


async def test_a_failed_read_keeps_the_last_figures(aredis: Redis, ns: str) -> None:
    keys = Keys(ns)
    await aredis.xadd(keys.dead, {"reason": "x"})
    metrics = StateMetrics(aredis, keys, paused_key="p")
    await metrics.refresh()

    async def broken() -> object:
        raise ConnectionError("down")

    metrics.queue_depth = broken  # type: ignore[assignment]
    state = await metrics.refresh()
    assert not state.ok and state.dead_letters == 1
    text = _scrape(metrics)
    assert "autonomic_state_read_ok 0.0" in text and "autonomic_dead_letter_entries 1.0" in text


def test_nothing_is_served_without_a_source_or_a_read() -> None:
    assert "autonomic_state_read_ok" not in _scrape(None)
    assert "autonomic_dead_letter_entries" not in _scrape(StateMetrics(None, Keys("x:"), paused_key="p"))  # type: ignore[arg-type]
