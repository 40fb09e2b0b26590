"""Metrics of the shared state in Redis, read when Prometheus scrapes, so every replica agrees.

Mitigations, flag changes, the last success of each job, the dead-letter
stream and the queue backlog live in Redis, not in any one process. A
per-process counter would differ between replicas (and reset on restart);
instead `/metrics` awaits `StateMetrics.refresh()` — one pipelined round trip
plus the queue figures — and `StateCollector` serves what it read. Flag
changes are counted by flags.lua itself (`HINCRBY` on the `flag-changes` hash,
in the same script that changes the value), so the counter is exact. If Redis
does not answer, the last figures are served and `autonomic_state_read_ok` is 0.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from app.actions.flags import is_truthy
from app.keys import Keys

SEP = "|"  # flag names are [a-z0-9_.-]+, so "|" cannot occur in them


class Backlog(Protocol):
    """The queue's backlog: entries not yet read, entries in flight, age of the oldest unfinished."""

    @property
    def lag(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def oldest_age_s(self) -> float: ...


@dataclass(frozen=True)
class QueueFigures:
    """An empty backlog (before the first read)."""

    lag: int = 0
    pending: int = 0
    oldest_age_s: float = 0.0


@dataclass
class State:
    """One read of the shared state."""

    active: set[str] = field(default_factory=set)
    changes: dict[tuple[str, str], int] = field(default_factory=dict)
    job_success: dict[str, float] = field(default_factory=dict)
    dead_letters: int = 0
    queue: Backlog = field(default_factory=QueueFigures)
    paused: bool = False
    read_at: float = 0.0
    ok: bool = False


class StateMetrics:
    """Reads the shared state from Redis for the collector."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        paused_key: str,
        queue_depth: Callable[[], Awaitable[Backlog]] | None = None,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.paused_key = paused_key
        self.queue_depth = queue_depth
        self.state = State()

    async def refresh(self) -> State:
        """Read everything once; on a Redis error keep the previous figures (marked not ok)."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.zrange(self.keys.leases, 0, -1)
            pipe.hgetall(self.keys.flag_changes)
            pipe.hgetall(self.keys.job_successes)
            pipe.xlen(self.keys.dead)
            pipe.get(self.paused_key)
            active, changes, successes, dead, paused = await pipe.execute()
            queue: Backlog = await self.queue_depth() if self.queue_depth is not None else QueueFigures()
        except Exception:
            # Any failure (Redis down, timeout): serve the last figures, flagged as stale.
            self.state.ok = False
            return self.state
        counts: dict[tuple[str, str], int] = {}
        for key, value in changes.items():
            flag, _, reason = str(key).partition(SEP)
            counts[(flag, reason or "unknown")] = int(value)
        self.state = State(
            active={str(name) for name in active},
            changes=counts,
            job_success={str(job): float(ts) for job, ts in successes.items()},
            dead_letters=int(dead),
            queue=queue,
            paused=is_truthy(paused),
            read_at=time.time(),
            ok=True,
        )
        return self.state


class StateCollector(Collector):
    """Serves the latest `StateMetrics` read."""

    def __init__(self, source: StateMetrics | None) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        if self.source is None:
            return
        state = self.source.state
        yield GaugeMetricFamily(
            "autonomic_state_read_ok",
            "1 if the shared state below was read from Redis for this scrape, 0 if it is stale.",
            value=1 if state.ok else 0,
        )
        if not state.read_at:
            return
        known = {flag for flag, _ in state.changes} | state.active
        active = GaugeMetricFamily(
            "autonomic_mitigation_active",
            "1 while at least one live lease holds the flag (a mitigation is on), else 0.",
            labels=["flag"],
        )
        for flag in sorted(known):
            active.add_metric([flag], 1 if flag in state.active else 0)
        yield active
        changes = CounterMetricFamily(
            "autonomic_flag_changes",
            "Changes of a flag's effective value, by reason (set, released, reverted, expired).",
            labels=["flag", "reason"],
        )
        for (flag, reason), count in sorted(state.changes.items()):
            changes.add_metric([flag, reason], count)
        yield changes
        success = GaugeMetricFamily(
            "autonomic_job_last_success_timestamp_seconds",
            "When each scheduled job last finished successfully (on whichever replica led).",
            labels=["job_id"],
        )
        for job, at in sorted(state.job_success.items()):
            success.add_metric([job], at)
        yield success
        yield GaugeMetricFamily(
            "autonomic_dead_letter_entries",
            "Entries in the dead-letter stream (trimmed by age by the lifecycle job).",
            value=state.dead_letters,
        )
        depth = GaugeMetricFamily(
            "autonomic_queue_depth",
            "Queued alerts by state (lag: not yet read; pending: in flight).",
            labels=["state"],
        )
        depth.add_metric(["lag"], state.queue.lag)
        depth.add_metric(["pending"], state.queue.pending)
        yield depth
        lanes = GaugeMetricFamily(
            "autonomic_queue_lane_depth",
            "Queued alerts per priority lane (high, normal) and state (lag: not read; pending: in flight).",
            labels=["lane", "state"],
        )
        for lane, figures in sorted((getattr(state.queue, "lanes", None) or {}).items()):
            lanes.add_metric([lane, "lag"], figures.lag)
            lanes.add_metric([lane, "pending"], figures.pending)
        yield lanes
        yield GaugeMetricFamily(
            "autonomic_queue_lag_seconds",
            "Age of the oldest unfinished queue entry (0 when the queue is empty).",
            value=state.queue.oldest_age_s,
        )
