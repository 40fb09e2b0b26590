"""The cost exporter's sources against the machine's PostgreSQL and Redis, rendered as /metrics does.

The SQL source is tested on the architecture guide's `requests` table with both
time column types (the `TIMESTAMP WITHOUT TIME ZONE` one used to fail: asyncpg
rejected the aware bound); the Redis source on the tracker's keys, optional ones
included. Figures of the current hour are asserted against the hour the exporter
reports it computed, so a run across an hour boundary still asserts an outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.jobs.cost_exporter import CostExporter, SnapshotCollector
from app.jobs.cost_sources import RedisCostSource, SqlCostSource, parse_columns

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
Samples = dict[str, dict[tuple[str, ...], float]]


def render(exporter: CostExporter) -> Samples:
    """The exporter's gauges as Prometheus parses them: name → label values (by sorted label
    name: `model, user_id`; `cache_hit, model`) → value."""
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(exporter))
    out: Samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(v for _, v in sorted(sample.labels.items()))] = sample.value
    return out


@pytest.fixture
async def requests_table(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, datetime]]:
    column_type = request.param
    table = f"requests_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    old = now - timedelta(days=2)
    rows = [  # user, model, cost, latency ms, cache hit, at
        ("alice", "gpt-4o", 0.5, 1000, True, now),
        ("alice", "gpt-4o-mini", 0.25, 500, False, now),
        ("bob", "gpt-4o", 2.0, 3000, False, now),
        ("bob", "gpt-4o", 50.0, 9000, False, old),  # two days ago: not today's
    ]
    engine = create_async_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE {table} (id serial, user_id text, model text, cost_usd numeric, "
                f"latency_ms int, cache_hit boolean, created_at {column_type})"
            )
        )
        for user, model, cost, latency, hit, at in rows:
            await conn.execute(
                text(
                    f"INSERT INTO {table} (user_id, model, cost_usd, latency_ms, cache_hit, created_at) "
                    "VALUES (:u, :m, :c, :l, :h, :t)"
                ),
                # A naive column takes naive UTC, as applications that use one write it.
                {
                    "u": user,
                    "m": model,
                    "c": cost,
                    "l": latency,
                    "h": hit,
                    "t": at if column_type == "timestamptz" else at.replace(tzinfo=None),
                },
            )
    yield table, now
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {table}"))
    await engine.dispose()


@pytest.mark.parametrize("requests_table", ["timestamptz", "timestamp without time zone"], indirect=True)
async def test_sql_source_reads_the_guides_requests_table(
    requests_table: tuple[str, datetime], aredis: aioredis.Redis, ns: str
) -> None:
    table, inserted = requests_table
    source = SqlCostSource(PG_URL, table)
    exporter = CostExporter(aredis, source, snapshot_key=f"{ns}cost:snapshot", top_users=1)
    try:
        summary = await exporter.compute()
    finally:
        await source.close()
    metrics = render(exporter)
    # bob is the top spender; alice is summed, per model, into _other.
    assert metrics["ai_daily_cost_usd"] == {
        ("gpt-4o", "bob"): 2.0,
        ("gpt-4o", "_other"): 0.5,
        ("gpt-4o-mini", "_other"): 0.25,
    }
    assert metrics["ai_daily_cost_by_model_usd"] == {("gpt-4o",): 2.5, ("gpt-4o-mini",): 0.25}
    assert summary["daily_total_usd"] == 2.75
    if exporter.latest is not None and exporter.latest.hour == inserted.strftime("%Y-%m-%d-%H"):
        assert metrics["ai_hourly_requests"] == {
            ("true", "gpt-4o"): 1,
            ("false", "gpt-4o"): 1,
            ("false", "gpt-4o-mini"): 1,
        }
        assert metrics["ai_avg_response_time_seconds"] == {("gpt-4o",): 2.0, ("gpt-4o-mini",): 0.5}
        assert metrics["ai_hourly_cost_usd"] == {(): 2.75}
    else:  # the hour turned between the insert and the read: nothing in the new hour yet
        assert "ai_hourly_requests" not in metrics
        assert metrics["ai_hourly_cost_usd"] == {(): 0.0}


async def test_redis_source_reads_the_trackers_optional_keys(aredis: aioredis.Redis, ns: str) -> None:
    now = datetime.now(UTC)
    day, hour = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d-%H")
    p = f"{ns}app:"
    await aredis.mset(
        {
            f"{p}cost:daily:{day}:user:alice": 0.75,
            f"{p}cost:daily:{day}:user:alice:model:gpt-4o": 0.5,
            f"{p}cost:daily:{day}:user:alice:model:gpt-4o-mini": 0.25,
            f"{p}cost:daily:{day}:user:org:7": 1.0,  # ids may contain colons
            f"{p}cost:daily:{day}:user:org:7:model:gpt-4o": 1.0,
            f"{p}cost:daily:{day}:model:gpt-4o": 1.5,
            f"{p}cost:daily:{day}:model:gpt-4o-mini": 0.25,
            f"{p}cost:hourly:{hour}": 0.4,
            f"{p}requests:hourly:{hour}:model:gpt-4o:cache_hit:true": 3,
            f"{p}requests:hourly:{hour}:model:gpt-4o:cache_hit:false": 1,
            f"{p}latency:hourly:{hour}:model:gpt-4o": 2000,  # ms summed over the 4 requests
        }
    )
    exporter = CostExporter(aredis, RedisCostSource(aredis, p), snapshot_key=f"{ns}snap", top_users=5)
    summary = await exporter.compute(now)
    metrics = render(exporter)
    assert metrics["ai_daily_cost_usd"] == {
        ("gpt-4o", "alice"): 0.5,
        ("gpt-4o-mini", "alice"): 0.25,
        ("gpt-4o", "org:7"): 1.0,
        ("_all", "_other"): 0.0,
    }
    assert summary["daily_total_usd"] == 1.75  # the per-user totals, not totals + split
    assert metrics["ai_hourly_requests"] == {("true", "gpt-4o"): 3, ("false", "gpt-4o"): 1}
    assert metrics["ai_avg_response_time_seconds"] == {("gpt-4o",): 0.5}
    assert metrics["ai_hourly_cost_usd"] == {(): 0.4}

    # Another replica serves the leader's snapshot as it is, without computing.
    other = CostExporter(aredis, RedisCostSource(aredis, p), snapshot_key=f"{ns}snap", top_users=5)
    await other.refresh()
    assert render(other) == metrics


def test_column_mapping_is_validated() -> None:
    assert parse_columns("created_at=ts, latency_ms=")["latency_ms"] == ""
    for bad, message in [
        ("created_at=ts;drop", "invalid column name"),
        ("when=ts", "unknown cost column"),
        ("user_id=", "required"),
        ("created_at", "use name=column"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_columns(bad)
    with pytest.raises(ValueError, match="invalid table name"):
        SqlCostSource(PG_URL, "requests; drop table x")
