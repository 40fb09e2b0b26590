"""Reading LLM spend from the cost tracker's Redis keys, and the SQL column mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from app.cost_columns import DEFAULT_COLUMNS, parse_columns
from app.jobs.cost_sources import RedisCostSource

NOW = datetime(2026, 11, 27, 13, 5, tzinfo=UTC)


async def test_the_tracker_keys_become_one_reading(aredis: Redis, ns: str) -> None:
    day, hour = "2026-11-27", "2026-11-27-13"
    await aredis.mset(
        {
            f"{ns}cost:daily:{day}:user:alice": 2.5,
            f"{ns}cost:daily:{day}:user:bob:model:gpt": 1.0,
            f"{ns}cost:daily:{day}:model:gpt": 3.5,
            f"{ns}cost:daily:2026-11-26:user:alice": 99,  # yesterday
            f"{ns}cost:daily:{day}:user:junk": "not a number",
            f"{ns}tokens:daily:{day}:user:alice": 1000,
            f"{ns}requests:hourly:{hour}:model:gpt:cache_hit:true": 3,
            f"{ns}requests:hourly:{hour}:model:gpt:cache_hit:false": 1,
            f"{ns}latency:hourly:{hour}:model:gpt": 2000,
            f"{ns}cost:hourly:{hour}": 0.75,
        }
    )
    reading = await RedisCostSource(aredis, ns, batch=2).read(NOW)
    assert reading.by_user == {"alice": 2.5}
    assert reading.by_user_model == {("bob", "gpt"): 1.0}
    assert reading.by_model == {"gpt": 3.5} and reading.tokens_by_user == {"alice": 1000}
    assert reading.requests == {("gpt", "true"): 3, ("gpt", "false"): 1}
    assert reading.latency_s == {"gpt": 0.5} and reading.hourly == 0.75


def test_column_mapping() -> None:
    assert parse_columns("") == DEFAULT_COLUMNS
    columns = parse_columns("user_id=uid, latency_ms=")
    assert columns["user_id"] == "uid" and columns["latency_ms"] == ""
    for bad, message in [
        ("colour=x", "unknown cost column"),
        ("user_id=a b", "invalid column"),
        ("cost_usd=", "is required"),
        ("user_id", "use name=column"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_columns(bad)
