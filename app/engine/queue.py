"""The durable work queue: one Redis stream per priority lane, each read by a consumer group.

Intake deduplicates and appends a whole webhook in one Lua call, each alert to
its lane (app/engine/lanes.py). Workers read the first non-empty lane in the
policy's order in one Lua call (XREADGROUP), keep their in-flight entries fresh
with XCLAIM, take over a dead consumer's entries with XAUTOCLAIM (high lane
first), and XACK only after the execution is recorded. Acknowledged entries are
trimmed so the length cap (both lanes together) measures backlog.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError, ResponseError

from app.coalesce import Coalescer
from app.engine import queue_entry
from app.engine.lanes import HIGH, LANES, NORMAL, LanePolicy
from app.engine.queue_entry import Entry as Entry  # re-exported: the workers take entries from here
from app.engine.queue_entry import decode
from app.keys import GROUP, Keys

_INTAKE = files("app.engine").joinpath("intake.lua").read_text()
_READ = files("app.engine").joinpath("read.lua").read_text()
# The names intake.lua writes an entry's event key, alert and trace context with.
_INTAKE_FIELDS = queue_entry.SCRIPT_FIELDS[:3]
# Alerts per intake Lua call: bounds how long one script holds Redis.
MAX_BATCH_ALERTS = 5000


# (event key, alert JSON, traceparent, seen mark: "+fingerprint" firing, "-fingerprint" resolved,
# lane: "high" or "normal")
Item = tuple[str, str, str, str, str]


def seen_mark(status: str, fingerprint: str) -> str:
    """The intake's seen mark for an alert: firing alerts are recorded as seen, resolved ones dropped."""
    return ("+" if status == "firing" else "-") + fingerprint


class QueueFull(Exception):
    """The backlog reached `queue_max_len`; intake answers 503 until workers catch up."""


class NotReplicated(RedisError):
    """Fewer replicas than `redis_wait_replicas` confirmed the write in time: answer 503, so
    Alertmanager retries (a no-op by dedup if the primary survives, a fresh accept if not)."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class Depth:
    """Backlog figures: entries not yet delivered, delivered but unacknowledged, oldest age."""

    lag: int
    pending: int
    oldest_age_s: float
    lanes: dict[str, Depth] | None = None


class AlertQueue:
    """Producer and consumer operations on the alerts stream."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        max_len: int,
        dedup_ttl_s: float,
        blocking: Redis | None = None,
        wait_replicas: int = 0,
        wait_timeout_s: float = 1.0,
        lanes: LanePolicy | None = None,
    ) -> None:
        self.redis = redis
        self.blocking = blocking or redis
        self.keys = keys
        self.max_len = max_len
        self.dedup_ttl_ms = max(1, int(dedup_ttl_s * 1000))
        self.lanes = lanes or LanePolicy()
        self._intake = redis.register_script(_INTAKE)
        self._read = redis.register_script(_READ)
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = max(1, int(wait_timeout_s * 1000))
        self._waiting: deque[tuple[list[Item], asyncio.Future[str]]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._acks = Coalescer(redis, transaction=False)

    async def enqueue(self, items: list[Item]) -> tuple[int, int]:
        """Record firing alerts as seen, dedup and append (event key, alert JSON, traceparent,
        seen mark, lane) items to their lanes; return (accepted, duplicates).

        Concurrent webhooks are coalesced: requests arriving while a batch is in flight go
        together in the next single Lua call, so Redis round trips (and redis-py's overhead)
        are shared. Each caller still returns only after Redis has acknowledged its alerts."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append((items, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        marks = await future
        accepted = marks.count("1")
        return accepted, len(marks) - accepted

    async def _flush(self) -> None:
        while self._waiting:
            batch: list[tuple[list[Item], asyncio.Future[str]]] = []
            size = 0
            while self._waiting and (not batch or size + len(self._waiting[0][0]) <= MAX_BATCH_ALERTS):
                items, future = self._waiting.popleft()
                batch.append((items, future))
                size += len(items)
            dedup = self.keys.dedup("")
            args: list[str | int] = [self.dedup_ttl_ms, self.max_len, size, len(dedup), *_INTAKE_FIELDS]
            keys = [self.keys.lane(NORMAL), self.keys.seen, self.keys.lane(HIGH)]
            for items, _ in batch:
                for key, alert, traceparent, mark, lane in items:
                    keys.append(dedup + key)
                    args += (alert, traceparent, mark, "h" if lane == HIGH else "n")
            try:
                reply = await self._intake(keys=keys, args=args)
                if self.wait_replicas and "1" in str(reply) and not str(reply).startswith("full:"):
                    # A failover must not lose what we answer 202 for: the write has to
                    # reach a replica first (Redis replication is asynchronous).
                    acked = await self.redis.wait(self.wait_replicas, self.wait_timeout_ms)
                    if int(acked) < self.wait_replicas:
                        raise NotReplicated(f"{acked} of {self.wait_replicas} replicas confirmed the write")
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else ConnectionError(str(exc)))
                if not isinstance(exc, Exception):
                    raise
                continue
            marks = str(reply)
            if marks.startswith("full:"):
                error = QueueFull(f"queue holds {marks[5:]} entries (cap {self.max_len})")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            offset = 0
            for items, future in batch:
                if not future.done():
                    future.set_result(marks[offset : offset + len(items)])
                offset += len(items)

    async def push(self, entry_fields: dict[str, str], lane: str = HIGH) -> str:
        """Append one item (fields from `queue_entry.encode`) without dedup (manual triggers: the
        high lane); return its stream id."""
        fields: dict[Any, Any] = dict(entry_fields)
        entry_id = await self.redis.xadd(self.keys.lane(lane), fields)
        return str(entry_id)

    async def ensure_group(self) -> None:
        """Create the consumer group (and stream) of every lane if missing."""
        for lane in LANES:
            try:
                await self.redis.xgroup_create(self.keys.lane(lane), GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _regroup(self, exc: ResponseError) -> None:
        """Re-raise `exc` unless it says a consumer group is missing (Redis lost its data: a
        restart without persistence); then create the groups again."""
        if "NOGROUP" not in str(exc):
            raise exc
        await self.ensure_group()

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries for `consumer` from the first non-empty lane in the policy's order,
        waiting up to `block_ms` for some when every lane is empty."""
        order = self.lanes.order()
        try:
            reply: Any = await self._read(
                keys=[self.keys.lane(lane) for lane in order], args=[GROUP, consumer, count]
            )
        except ResponseError as exc:
            await self._regroup(exc)
            return []
        if int(reply[0]):
            lane = order[int(reply[0]) - 1]
            self.lanes.served(lane)
            return [self._decode(lane, item) for item in reply[1]]
        # Every lane empty: block on all of them (high lane named first).
        entries = await self._block(LANES, consumer, count, block_ms)
        for lane in sorted({entry.lane for entry in entries}, key=LANES.index):
            self.lanes.served(lane)
        return entries

    async def read_lane(self, lane: str, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries of one lane for `consumer`, waiting up to `block_ms` for some (the
        high-lane reader of app/engine/workers.py)."""
        return await self._block((lane,), consumer, count, block_ms)

    async def _block(self, lanes: tuple[str, ...], consumer: str, count: int, block_ms: int) -> list[Entry]:
        """One blocking XREADGROUP on `lanes`, on the client kept for blocking reads."""
        by_stream = {self.keys.lane(lane): lane for lane in lanes}
        streams: dict[Any, Any] = dict.fromkeys(by_stream, ">")
        try:
            blocked: Any = await self.blocking.xreadgroup(
                GROUP, consumer, streams, count=count, block=block_ms
            )
        except ResponseError as exc:
            await self._regroup(exc)
            return []
        return [
            decode(eid, fields, lane=by_stream[_text(stream)])
            for stream, items in blocked or []
            for eid, fields in items
        ]

    @staticmethod
    def _decode(lane: str, item: Any) -> Entry:
        entry_id, flat = item
        fields = {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}
        return decode(_text(entry_id), fields, lane=lane)

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """Take over entries idle longer than `min_idle_ms` (their consumer died), high lane first."""
        out: list[Entry] = []
        for lane in LANES:
            if len(out) < count:
                out += await self._claim_lane(lane, consumer, min_idle_ms, count - len(out))
        return out

    async def _claim_lane(self, lane: str, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        stream = self.keys.lane(lane)
        try:
            _, claimed, deleted = await self.redis.xautoclaim(
                stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
            )
        except ResponseError as exc:
            await self._regroup(exc)
            return []
        if deleted:  # trimmed away while pending: nothing left to process
            await self.redis.xack(stream, GROUP, *deleted)
        claimed = [(eid, fields) for eid, fields in claimed if fields]
        if not claimed:
            return []
        ids = [eid for eid, _ in claimed]
        info = await self.redis.xpending_range(
            stream, GROUP, min=ids[0], max=ids[-1], count=len(ids) * 2 + 10
        )
        counts = {row["message_id"]: int(row["times_delivered"]) for row in info}
        return [decode(eid, fields, counts.get(eid, 1), lane) for eid, fields in claimed]

    async def touch(self, consumer: str, entries: list[Entry]) -> None:
        """Reset the idle time of entries still being worked on, so no one claims them."""
        for lane in LANES:
            ids = [entry.id for entry in entries if entry.lane == lane]
            if ids:
                await self.redis.xclaim(
                    self.keys.lane(lane),
                    GROUP,
                    consumer,
                    min_idle_time=0,
                    message_ids=list[Any](ids),
                    justid=True,
                )

    async def ack(self, entry: Entry) -> None:
        """Acknowledge a finished entry in its lane (concurrent acks share one round trip)."""

        def add(pipe: Pipeline) -> int:
            pipe.xack(self.keys.lane(entry.lane), GROUP, entry.id)
            return 1

        await self._acks.run(add)

    async def hand_back(self, entry: Entry) -> None:
        """Re-queue an entry in its own lane now (shutdown) instead of waiting for the idle timeout."""
        stream = self.keys.lane(entry.lane)
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(stream, entry.fields)
        pipe.xack(stream, GROUP, entry.id)
        await pipe.execute()

    async def dead_letter(self, entry: Entry, reason: str, **extra: str) -> None:
        """Copy an entry to the dead-letter stream with the reason it could not be handled."""
        fields: dict[Any, Any] = queue_entry.dead(entry, reason, **extra)
        await self.redis.xadd(
            self.keys.dead,
            fields,
            maxlen=self.max_len,
            approximate=True,
        )

    async def trim_acknowledged(self) -> None:
        """Drop entries every consumer has acknowledged, so the streams hold only backlog."""
        for lane in LANES:
            await self._trim(self.keys.lane(lane))

    async def _trim(self, stream: str) -> None:
        try:
            groups = await self.redis.xinfo_groups(stream)
        except ResponseError:
            return
        group = next((g for g in groups if g["name"] == GROUP), None)
        if group is None:
            return
        summary = await self.redis.xpending(stream, GROUP)
        if summary["pending"]:
            min_id = summary["min"]
        else:
            last = group["last-delivered-id"]
            ms, _, seq = last.partition("-")
            min_id = f"{ms}-{int(seq or 0) + 1}"
        await self.redis.xtrim(stream, minid=min_id, approximate=False)

    async def depth(self) -> Depth:
        """Current backlog figures for metrics: both lanes together, and each in `lanes`."""
        lanes = {lane: await self._lane_depth(self.keys.lane(lane)) for lane in LANES}
        return Depth(
            sum(d.lag for d in lanes.values()),
            sum(d.pending for d in lanes.values()),
            max(d.oldest_age_s for d in lanes.values()),
            lanes,
        )

    async def _lane_depth(self, stream: str) -> Depth:
        try:
            groups = await self.redis.xinfo_groups(stream)
        except ResponseError:
            return Depth(0, 0, 0.0)
        group = next((g for g in groups if g["name"] == GROUP), None)
        if group is None:
            return Depth(0, 0, 0.0)
        lag = int(group.get("lag") or 0)
        pending = int(group.get("pending") or 0)
        oldest_id = None
        if pending:
            summary = await self.redis.xpending(stream, GROUP)
            oldest_id = summary["min"]
        elif lag:
            first = await self.redis.xrange(stream, min=f"({group['last-delivered-id']}", count=1)
            oldest_id = first[0][0] if first else None
        age = 0.0
        if oldest_id:
            (now_s, now_us) = await self.redis.time()
            age = max(0.0, now_s + now_us / 1e6 - int(oldest_id.split("-")[0]) / 1000)
        return Depth(lag, pending, age)
