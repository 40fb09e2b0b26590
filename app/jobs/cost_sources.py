"""Where the cost exporter reads LLM spend: the cost tracker's Redis keys or a SQL `requests` table.

Both return one `Reading` for the current UTC day and hour. The Redis source
reads the keys the tracker keeps with `INCRBYFLOAT` (SCAN + MGET in batches,
never KEYS); optional keys — per user and model, requests and latency per
model — are exported when the tracker writes them. The SQL source sums the
table (default: the architecture guide's `requests` table; every column name
is configurable, and the latency, cache-hit and token columns may be left out).
Timestamps are compared in UTC: the bound is passed as `timestamptz` and
converted with `AT TIME ZONE 'UTC'`, and the session time zone is pinned to
UTC, so a `TIMESTAMP WITHOUT TIME ZONE` column (read as UTC) works as well as
a `TIMESTAMPTZ` one, and the comparison stays on the constant side (indexes on
the time column still apply).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from redis.asyncio import Redis

from app.cost_columns import parse_columns as parse_columns  # the SQL source reads it
from app.keys import CostKeys

ALL_MODELS = "_all"  # the model label when the tracker keeps spend per user only
TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


@dataclass
class Reading:
    """Spend and traffic for the current UTC day and hour, as a source reports them."""

    by_user: dict[str, float] = field(default_factory=dict)
    by_model: dict[str, float] = field(default_factory=dict)
    by_user_model: dict[tuple[str, str], float] = field(default_factory=dict)
    hourly: float = 0.0
    tokens_by_user: dict[str, float] = field(default_factory=dict)
    requests: dict[tuple[str, str], float] = field(default_factory=dict)  # (model, cache_hit) → count
    latency_s: dict[str, float] = field(default_factory=dict)  # model → mean seconds


class Source(Protocol):
    """Where spend comes from."""

    async def read(self, now: datetime) -> Reading:
        """Figures for the UTC day and hour of `now`."""
        ...


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
                    number = float(value)
                except ValueError:
                    continue  # not a number: not ours to export
                suffix = key.split(marker, 1)[1]
                out[suffix] = out.get(suffix, 0.0) + number
            keys.clear()

        async for key in self.redis.scan_iter(match=pattern, count=self.batch):
            keys.append(key)
            if len(keys) >= self.batch:
                await flush()
        if keys:
            await flush()
        return out

    async def read(self, now: datetime) -> Reading:
        day, hour = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d-%H")
        keys = CostKeys(self.prefix)
        reading = Reading()
        # `…:user:{id}` holds a user's total; `…:user:{id}:model:{model}` (optional) the split.
        for suffix, value in (await self._scan(keys.daily_cost_by_user(day), ":user:")).items():
            user, sep, model = suffix.rpartition(":model:")
            if sep:
                reading.by_user_model[(user, model)] = value
            else:
                reading.by_user[suffix] = value
        reading.by_model = await self._scan(keys.daily_cost_by_model(day), ":model:")
        reading.tokens_by_user = await self._scan(keys.daily_tokens_by_user(day), ":user:")
        for suffix, value in (await self._scan(keys.hourly_requests(hour), ":model:")).items():
            model, sep, hit = suffix.rpartition(":cache_hit:")
            if sep:
                reading.requests[(model, hit)] = value
        latency_ms = await self._scan(keys.hourly_latency(hour), ":model:")
        for model, total_ms in latency_ms.items():
            count = sum(n for (m, _), n in reading.requests.items() if m == model)
            if count:
                reading.latency_s[model] = total_ms / count / 1000
        raw = await self.redis.get(keys.hourly_cost(hour))
        try:
            reading.hourly = float(raw) if raw is not None else 0.0
        except ValueError:
            reading.hourly = 0.0
        return reading


class SqlCostSource:
    """A table of requests (one row per LLM call) in PostgreSQL, through SQLAlchemy's async engine."""

    def __init__(self, url: str, table: str = "requests", columns: Mapping[str, str] | str = "") -> None:
        from sqlalchemy import event, text
        from sqlalchemy.ext.asyncio import create_async_engine

        if not TABLE.fullmatch(table):
            raise ValueError(f"invalid table name {table!r}")
        c = parse_columns(columns)
        self.engine = create_async_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=0)

        @event.listens_for(self.engine.sync_engine, "connect")
        def _utc(dbapi_connection: Any, _record: Any) -> None:
            # Naive timestamps are UTC by convention; comparing them with our bound needs UTC too.
            cursor = dbapi_connection.cursor()
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.close()

        # Identifiers are validated above; values are bound parameters.
        since = f"{c['created_at']} >= (CAST(:since AS timestamptz) AT TIME ZONE 'UTC')"
        tokens = " + ".join(f"COALESCE({c[k]}, 0)" for k in ("input_tokens", "output_tokens") if c[k])
        self.has_tokens = bool(tokens)
        self._daily = text(
            f"SELECT {c['user_id']}, {c['model']}, SUM({c['cost_usd']}), "  # noqa: S608
            f"{f'SUM({tokens})' if tokens else 'NULL'} FROM {table} WHERE {since} "
            f"GROUP BY {c['user_id']}, {c['model']}"
        )
        hit, latency = c["cache_hit"], c["latency_ms"]
        self._hourly = text(
            f"SELECT {c['model']}, {hit or 'NULL'}, COUNT(*), SUM({c['cost_usd']}), "  # noqa: S608
            f"{f'SUM({latency}), COUNT({latency})' if latency else 'NULL, 0'} FROM {table} "
            f"WHERE {since} GROUP BY {c['model']}{f', {hit}' if hit else ''}"
        )

    async def read(self, now: datetime) -> Reading:
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        hour = now.replace(minute=0, second=0, microsecond=0)
        reading = Reading()
        latency: dict[str, tuple[float, int]] = {}
        async with self.engine.connect() as conn:
            for user_id, model, cost, tokens in await conn.execute(self._daily, {"since": day}):
                user, name, spent = str(user_id), str(model), float(cost or 0)
                reading.by_user_model[(user, name)] = spent
                reading.by_user[user] = reading.by_user.get(user, 0.0) + spent
                reading.by_model[name] = reading.by_model.get(name, 0.0) + spent
                if self.has_tokens:
                    reading.tokens_by_user[user] = reading.tokens_by_user.get(user, 0.0) + float(tokens or 0)
            rows = await conn.execute(self._hourly, {"since": hour})
            for model, hit, count, cost, latency_sum, latency_count in rows:
                name = str(model)
                key = (name, "unknown" if hit is None else str(bool(hit)).lower())
                reading.requests[key] = reading.requests.get(key, 0.0) + float(count)
                reading.hourly += float(cost or 0)
                total, n = latency.get(name, (0.0, 0))
                latency[name] = (total + float(latency_sum or 0), n + int(latency_count or 0))
        reading.latency_s = {m: total / n / 1000 for m, (total, n) in latency.items() if n}
        return reading

    async def close(self) -> None:
        await self.engine.dispose()
