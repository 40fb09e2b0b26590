"""The cost exporter: LLM spend from the application's cost tracker → Prometheus gauges.

Sources: the tracker's Redis aggregates (`cost:daily:{date}:user:{id}`,
`cost:daily:{date}:model:{model}`, `cost:hourly:{YYYY-MM-DD-HH}`,
`tokens:daily:{date}:user:{id}`, read with SCAN, never KEYS) or a PostgreSQL
`cost_tracking` table. The leader computes a snapshot and stores it in Redis;
every replica serves the last snapshot on /metrics, so scrapes of any replica
agree. User label cardinality is bounded: the top K users by spend keep their
own series, the rest are summed as `user_id="_other"`.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio import Redis

OTHER = "_other"


class Snapshot(msgspec.Struct):
    """Spend figures at one moment (UTC day and hour)."""

    computed_at: float
    day: str
    hour: str
    daily_by_user: dict[str, float]
    daily_by_model: dict[str, float]
    hourly: float
    tokens_by_user: dict[str, float]
    users_total: int = 0


class Source(Protocol):
    """Where spend comes from."""

    async def read(self, now: datetime) -> tuple[dict[str, float], dict[str, float], float, dict[str, float]]:
        """(daily cost by user, daily cost by model, cost this hour, daily tokens by user)."""
        ...


def cap(values: dict[str, float], top: int) -> dict[str, float]:
    """Keep the `top` largest entries; sum the rest as `_other` (always present)."""
    keep = dict(heapq.nlargest(top, values.items(), key=lambda kv: kv[1]))
    keep[OTHER] = sum(v for k, v in values.items() if k not in keep)
    return keep


class RedisCostSource:
    """The cost tracker's aggregates in Redis."""

    def __init__(self, redis: Redis, prefix: str = "", batch: int = 1000) -> None:
        self.redis = redis
        self.prefix = prefix
        self.batch = batch

    async def _scan(self, pattern: str, marker: str) -> dict[str, float]:
        """{suffix after `marker`: value} for every key matching `pattern`."""
        out: dict[str, float] = {}
        keys: list[str] = []

        async def flush() -> None:
            values = await self.redis.mget(keys)
            for key, value in zip(keys, values, strict=True):
                if value is None:
                    continue
                try:
                    out[key.split(marker, 1)[1]] = out.get(key.split(marker, 1)[1], 0.0) + float(value)
                except ValueError:
                    continue  # not a number: not ours to export
            keys.clear()

        async for key in self.redis.scan_iter(match=pattern, count=self.batch):
            keys.append(key)
            if len(keys) >= self.batch:
                await flush()
        if keys:
            await flush()
        return out

    async def read(self, now: datetime) -> tuple[dict[str, float], dict[str, float], float, dict[str, float]]:
        day, hour = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d-%H")
        p = self.prefix
        users = await self._scan(f"{p}cost:daily:{day}:user:*", ":user:")
        models = await self._scan(f"{p}cost:daily:{day}:model:*", ":model:")
        tokens = await self._scan(f"{p}tokens:daily:{day}:user:*", ":user:")
        raw = await self.redis.get(f"{p}cost:hourly:{hour}")
        try:
            hourly = float(raw) if raw is not None else 0.0
        except ValueError:
            hourly = 0.0
        return users, models, hourly, tokens


class PostgresCostSource:
    """A `cost_tracking` table (timestamp, request_id, user_id, model, provider, input_tokens,
    output_tokens, cost_usd, user_tier), through SQLAlchemy's async engine."""

    def __init__(self, url: str, table: str = "cost_tracking") -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        if not table.replace("_", "").isalnum():
            raise ValueError(f"invalid table name {table!r}")
        self.engine = create_async_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=0)
        # The table name is validated above; values are bound parameters.
        by_user = f"SELECT user_id, SUM(cost_usd), SUM(input_tokens + output_tokens) FROM {table}"  # noqa: S608
        by_model = f"SELECT model, SUM(cost_usd) FROM {table}"  # noqa: S608
        hourly = f"SELECT COALESCE(SUM(cost_usd), 0) FROM {table}"  # noqa: S608
        self._by_user = text(by_user + " WHERE timestamp >= :day GROUP BY user_id")
        self._by_model = text(by_model + " WHERE timestamp >= :day GROUP BY model")
        self._hourly = text(hourly + " WHERE timestamp >= :hour")

    async def read(self, now: datetime) -> tuple[dict[str, float], dict[str, float], float, dict[str, float]]:
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        hour = now.replace(minute=0, second=0, microsecond=0)
        users: dict[str, float] = {}
        tokens: dict[str, float] = {}
        async with self.engine.connect() as conn:
            for user_id, cost, count in await conn.execute(self._by_user, {"day": day}):
                users[str(user_id)] = float(cost or 0)
                tokens[str(user_id)] = float(count or 0)
            models = {str(m): float(c or 0) for m, c in await conn.execute(self._by_model, {"day": day})}
            hourly = (await conn.execute(self._hourly, {"hour": hour})).scalar_one()
        return users, models, float(hourly), tokens

    async def close(self) -> None:
        await self.engine.dispose()


class CostExporter:
    """Computes snapshots (leader) and keeps the latest one for /metrics (every replica)."""

    def __init__(self, redis: Redis, source: Source, *, snapshot_key: str, top_users: int) -> None:
        self.redis = redis
        self.source = source
        self.snapshot_key = snapshot_key
        self.top_users = top_users
        self.latest: Snapshot | None = None

    async def compute(self, now: datetime | None = None) -> dict[str, Any]:
        """Read the source, cap cardinality, store the snapshot; return a summary."""
        now = now or datetime.now(UTC)
        users, models, hourly, tokens = await self.source.read(now)
        snapshot = Snapshot(
            computed_at=time.time(),
            day=now.strftime("%Y-%m-%d"),
            hour=now.strftime("%Y-%m-%d-%H"),
            daily_by_user=cap(users, self.top_users),
            daily_by_model=models,
            hourly=hourly,
            tokens_by_user=cap(tokens, self.top_users),
            users_total=len(users),
        )
        await self.redis.set(self.snapshot_key, msgspec.json.encode(snapshot))
        self.latest = snapshot
        return {
            "users": len(users),
            "models": len(models),
            "daily_total_usd": round(sum(users.values()), 6),
            "hourly_usd": round(hourly, 6),
        }

    async def refresh(self) -> None:
        """Load the leader's latest snapshot (every replica, for /metrics)."""
        raw = await self.redis.get(self.snapshot_key)
        if raw:
            self.latest = msgspec.json.decode(raw, type=Snapshot)


class SnapshotCollector(Collector):
    """Serves the latest snapshot as the `ai_*` gauges."""

    def __init__(self, exporter: CostExporter | None) -> None:
        self.exporter = exporter

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.exporter.latest if self.exporter is not None else None
        if snap is None:
            return
        users = GaugeMetricFamily(
            "ai_daily_cost_usd", "LLM spend today (UTC) by user; the rest as _other.", labels=["user_id"]
        )
        for user, value in snap.daily_by_user.items():
            users.add_metric([user], value)
        yield users
        models = GaugeMetricFamily(
            "ai_daily_cost_by_model_usd", "LLM spend today (UTC) by model.", labels=["model"]
        )
        for model, value in snap.daily_by_model.items():
            models.add_metric([model], value)
        yield models
        yield GaugeMetricFamily(
            "ai_hourly_cost_usd", "LLM spend in the current hour (UTC).", value=snap.hourly
        )
        tokens = GaugeMetricFamily(
            "ai_daily_tokens", "Tokens used today (UTC) by user; the rest as _other.", labels=["user_id"]
        )
        for user, value in snap.tokens_by_user.items():
            tokens.add_metric([user], value)
        yield tokens
        yield GaugeMetricFamily(
            "ai_cost_snapshot_timestamp_seconds",
            "When the cost snapshot was computed.",
            value=snap.computed_at,
        )
