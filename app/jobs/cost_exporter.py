"""The cost exporter: LLM spend from the application's cost tracker → Prometheus gauges.

Sources (app/jobs/cost_sources.py): the tracker's Redis keys or a SQL table of
requests. The leader computes a snapshot and stores it in Redis;
every replica serves the last snapshot on /metrics, so scrapes of any replica
agree. User label cardinality is bounded: the top K users by spend keep their
own series, the rest are summed as `user_id="_other"`.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from app.jobs.cost_sources import ALL_MODELS, Reading, Source

OTHER = "_other"
V = TypeVar("V", float, dict[str, float])


class Snapshot(msgspec.Struct):
    """Spend figures at one moment (UTC day and hour). Fields added later have defaults, so a
    replica can read a snapshot written by an older leader during a rolling upgrade."""

    computed_at: float
    day: str
    hour: str
    daily_by_user: dict[str, float]
    daily_by_model: dict[str, float]
    hourly: float
    tokens_by_user: dict[str, float]
    users_total: int = 0
    daily_by_user_model: dict[str, dict[str, float]] = {}
    hourly_requests: dict[str, dict[str, float]] = {}  # model → cache_hit → count
    avg_latency_s: dict[str, float] = {}


def cap(values: dict[str, float], top: int) -> dict[str, float]:
    """Keep the `top` largest entries; sum the rest as `_other` (always present)."""
    keep = dict(heapq.nlargest(top, values.items(), key=lambda kv: kv[1]))
    keep[OTHER] = sum(v for k, v in values.items() if k not in keep)
    return keep


def cap_by_user(reading: Reading, top: int) -> dict[str, dict[str, float]]:
    """Spend by user and model for the `top` spenders; everyone else summed per model as `_other`."""
    split = dict(reading.by_user_model)
    if not split:  # the tracker keeps totals per user only
        split = {(user, ALL_MODELS): value for user, value in reading.by_user.items()}
    totals: dict[str, float] = {}
    for (user, _), value in split.items():
        totals[user] = totals.get(user, 0.0) + value
    keep = set(cap(totals, top)) - {OTHER}
    out: dict[str, dict[str, float]] = {OTHER: {}}
    for (user, model), value in split.items():
        row = out.setdefault(user if user in keep else OTHER, {})
        row[model] = row.get(model, 0.0) + value
    if not out[OTHER]:
        out[OTHER] = {ALL_MODELS: 0.0}
    return out


def user_label(key: bytes, user_id: str) -> str:
    """The `user_id` label under AUTONOMIC_COST_USER_LABEL=hash: a stable keyed hash, so a
    scrape does not show who spends, while an operator can still compute a user's label."""
    return "u-" + hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:16]


def relabel(values: dict[str, V], key: bytes | None) -> dict[str, V]:
    """`values` keyed by label: the user id itself, or its keyed hash (`_other` stays). Two ids
    with one label (a 64-bit collision) would be merged; numbers add, per-model rows merge."""
    if key is None:
        return values
    out: dict[str, V] = {}
    for user, value in values.items():
        label = user if user == OTHER else user_label(key, user)
        if label in out:
            out[label] = _merge(out[label], value)
        else:
            out[label] = value
    return out


def _merge(a: V, b: V) -> V:
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for k, v in b.items():
            merged[k] = merged.get(k, 0.0) + v
        return merged
    return a + b


class CostExporter:
    """Computes snapshots (leader) and keeps the latest one for /metrics (every replica)."""

    def __init__(self, redis: Redis, source: Source, *, snapshot_key: str, top_users: int) -> None:
        self.redis = redis
        self.source = source
        self.snapshot_key = snapshot_key
        self.top_users = top_users
        self.latest: Snapshot | None = None

    async def compute(self, now: datetime | None = None, *, label_key: bytes | None = None) -> dict[str, Any]:
        """Read the source, cap cardinality, store the snapshot; return a summary.

        With `label_key`, user ids are exported (and stored) only as `user_label(label_key, id)`."""
        now = now or datetime.now(UTC)
        reading = await self.source.read(now)
        users = dict(reading.by_user)
        if not users:  # per-user totals derived from the split when only it exists
            for (user, _), value in reading.by_user_model.items():
                users[user] = users.get(user, 0.0) + value
        requests: dict[str, dict[str, float]] = {}
        for (model, hit), count in reading.requests.items():
            requests.setdefault(model, {})[hit] = count
        snapshot = Snapshot(
            computed_at=time.time(),
            day=now.strftime("%Y-%m-%d"),
            hour=now.strftime("%Y-%m-%d-%H"),
            daily_by_user=relabel(cap(users, self.top_users), label_key),
            daily_by_model=reading.by_model,
            hourly=reading.hourly,
            tokens_by_user=relabel(cap(reading.tokens_by_user, self.top_users), label_key),
            users_total=len(users),
            daily_by_user_model=relabel(cap_by_user(reading, self.top_users), label_key),
            hourly_requests=requests,
            avg_latency_s=reading.latency_s,
        )
        await self.redis.set(self.snapshot_key, msgspec.json.encode(snapshot))
        self.latest = snapshot
        return {
            "users": len(users),
            "models": len(reading.by_model),
            "daily_total_usd": round(sum(users.values()), 6),
            "hourly_usd": round(reading.hourly, 6),
            "hourly_requests": sum(reading.requests.values()),
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
            "ai_daily_cost_usd",
            "LLM spend today (UTC) by user and model; users beyond the top K summed as _other.",
            labels=["user_id", "model"],
        )
        if snap.daily_by_user_model:
            for user, by_model in snap.daily_by_user_model.items():
                for model, value in by_model.items():
                    users.add_metric([user, model], value)
        else:  # a snapshot from before the split: totals per user
            for user, value in snap.daily_by_user.items():
                users.add_metric([user, ALL_MODELS], value)
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
        requests = GaugeMetricFamily(
            "ai_hourly_requests",
            "LLM requests in the current hour (UTC) by model and cache hit (true, false, unknown).",
            labels=["model", "cache_hit"],
        )
        for model, by_hit in snap.hourly_requests.items():
            for hit, count in by_hit.items():
                requests.add_metric([model, hit], count)
        yield requests
        latency = GaugeMetricFamily(
            "ai_avg_response_time_seconds",
            "Mean LLM response time in the current hour (UTC) by model.",
            labels=["model"],
        )
        for model, seconds in snap.avg_latency_s.items():
            latency.add_metric([model], seconds)
        yield latency
        yield GaugeMetricFamily(
            "ai_cost_snapshot_timestamp_seconds",
            "When the cost snapshot was computed.",
            value=snap.computed_at,
        )
