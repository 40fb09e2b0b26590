"""Workers: consume the alerts stream with a bounded number of concurrent executions.

One reader fetches new entries from the lanes in the policy's order (high first)
into `concurrency` slots. A second reader waits on the high lane alone with
`high_reserve` slots of its own, so a critical alert starts at once even while a
storm of warnings holds every shared slot (the shared reader takes high-lane
entries too: a storm of criticals gets both). A maintenance loop reclaims entries a dead
consumer left idle (XAUTOCLAIM), keeps this consumer's in-flight entries
fresh and trims acknowledged entries (queue metrics are read at scrape time). An entry
is acknowledged only after its executions are recorded; a failed execution
copies the entry to the dead-letter stream; an entry delivered more than
`max_deliveries` times is dead-lettered unprocessed. On shutdown, work still
running after the grace period is cancelled and handed back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

import msgspec
import structlog
from redis.exceptions import RedisError

from app import metrics
from app.coalesce import URGENT
from app.connection import BLOCK_MS
from app.engine.admission import IntakeGate
from app.engine.approvals import ApprovalStore
from app.engine.dispatch import Dispatcher
from app.engine.followups import FollowUps
from app.engine.lanes import HIGH
from app.engine.queue import AlertQueue, Entry
from app.engine.triggers import Trigger
from app.models import Alert

log = structlog.get_logger(__name__)
_alert_decoder = msgspec.json.Decoder(Alert)


def consumer_name() -> str:
    """A name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class WorkerPool:
    """Reads the queue and runs up to `concurrency` entries at a time."""

    def __init__(
        self,
        queue: AlertQueue,
        dispatcher: Dispatcher,
        *,
        followups: FollowUps,
        approvals: ApprovalStore,
        concurrency: int,
        claim_idle_s: float,
        max_deliveries: int,
        shutdown_grace_s: float,
        consumer: str | None = None,
        intake_permits: int = 1,
        intake_wait_s: float = 2.0,
        high_reserve: int = 0,
    ) -> None:
        self.queue = queue
        self.dispatcher = dispatcher
        self.followups = followups  # due follow-ups move to the queue from the maintenance loop
        self.approvals = approvals  # and gates past their deadline are rejected there
        self.concurrency = concurrency
        self.claim_idle_ms = max(1, int(claim_idle_s * 1000))
        self.max_deliveries = max_deliveries
        self.shutdown_grace_s = shutdown_grace_s
        self.consumer = consumer or consumer_name()
        self._slots = asyncio.Semaphore(concurrency)
        self.high_reserve = high_reserve
        self._high_slots = asyncio.Semaphore(high_reserve)
        # By (lane, id): one intake call gives the same stream ids to entries of both lanes.
        self._inflight: dict[tuple[str, str], tuple[Entry, asyncio.Task[None]]] = {}
        self._shared = 0  # entries in flight in the shared slots
        self._urgent = 0  # high-lane entries in flight whose Redis calls skip the batch queue
        self._stopping = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._redis_down = False
        # Webhooks take turns while every slot is busy (app/engine/admission.py).
        self.intake = IntakeGate(
            permits=intake_permits, wait_s=intake_wait_s, saturated=lambda: self.saturated
        )

    @property
    def saturated(self) -> bool:
        """True while every shared worker slot is taken (execution is the bottleneck)."""
        return self._shared >= self.concurrency

    async def start(self) -> None:
        """Start the reader and maintenance loops."""
        with contextlib.suppress(RedisError):
            await self.queue.ensure_group()
        self._loops = [
            asyncio.create_task(self._reader(), name="autonomic-reader"),
            asyncio.create_task(self._maintenance(), name="autonomic-maintenance"),
        ]
        if self.high_reserve:
            self._loops.append(asyncio.create_task(self._high_reader(), name="autonomic-high-reader"))
        log.info(
            "workers started",
            consumer=self.consumer,
            concurrency=self.concurrency,
            high_reserve=self.high_reserve,
        )

    async def stop(self) -> None:
        """Stop reading; let in-flight work finish within the grace period, hand back the rest."""
        self._stopping.set()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        tasks = [task for _, task in self._inflight.values()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.shutdown_grace_s)
            for entry, task in list(self._inflight.values()):
                if task in pending:
                    task.cancel()
                    with contextlib.suppress(RedisError):
                        await self.queue.hand_back(entry)
                        log.info("handed back unfinished entry", entry=entry.id)
            await asyncio.gather(*pending, return_exceptions=True)
        log.info("workers stopped", consumer=self.consumer)

    def _redis_error(self, exc: Exception) -> None:
        if not self._redis_down:
            log.error("redis unavailable; workers will retry", error=str(exc))
            self._redis_down = True

    def _redis_ok(self) -> None:
        if self._redis_down:
            log.info("redis reachable again")
            self._redis_down = False

    async def _reader(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            await self._slots.acquire()
            try:
                entries = await self.queue.read(self.consumer, self._free(), BLOCK_MS)
            except (RedisError, OSError) as exc:
                self._slots.release()
                self._redis_error(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            self._redis_ok()
            if not entries:
                self._slots.release()
                continue
            self._spawn(entries[0], self._slots)
            for entry in entries[1:]:
                await self._slots.acquire()
                self._spawn(entry, self._slots)

    async def _high_reader(self) -> None:
        """Wait on the high lane alone, with the reserved slots: takes only what they can start."""
        backoff = 0.1
        while not self._stopping.is_set():
            await self._high_slots.acquire()
            free = 1
            while free < self.high_reserve and not self._high_slots.locked():
                await self._high_slots.acquire()  # free: returns at once
                free += 1
            try:
                entries = await self.queue.read_lane(HIGH, self.consumer, free, BLOCK_MS)
            except (RedisError, OSError) as exc:
                entries = []
                self._redis_error(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            else:
                backoff = 0.1
                self._redis_ok()
            for _ in range(free - len(entries)):
                self._high_slots.release()
            for entry in entries:
                self._spawn(entry, self._high_slots)

    def _free(self) -> int:
        # Entries we may take now; Semaphore has no public counter, so count in-flight work.
        return max(1, self.concurrency - self._shared)

    def _spawn(self, entry: Entry, slots: asyncio.Semaphore) -> None:
        task = asyncio.create_task(self._process(entry, slots), name=f"entry-{entry.id}")
        self._inflight[entry.lane, entry.id] = (entry, task)
        if slots is self._slots:
            self._shared += 1

    async def _process(self, entry: Entry, slots: asyncio.Semaphore) -> None:
        # Up to `high_reserve` high-lane executions at once do not queue their Redis calls behind
        # the batch in flight (app/coalesce.py); in a storm of critical alerts the rest are
        # coalesced as usual.
        urgent = entry.lane == HIGH and self._urgent < max(1, self.high_reserve)
        self._urgent += urgent
        token = URGENT.set(urgent)
        try:
            await self._handle(entry)
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            # Not acknowledged: the entry stays pending and is reclaimed after the idle timeout.
            self._redis_error(exc)
        except Exception:
            log.exception("entry processing crashed", entry=entry.id)
        finally:
            URGENT.reset(token)
            self._urgent -= urgent
            self._inflight.pop((entry.lane, entry.id), None)
            if slots is self._slots:
                self._shared -= 1
            slots.release()

    async def _handle(self, entry: Entry) -> None:
        if entry.deliveries > self.max_deliveries:
            await self.queue.dead_letter(entry, f"delivered {entry.deliveries} times without finishing")
            metrics.DEAD_LETTERS.inc()
            await self.queue.ack(entry)
            log.error("entry dead-lettered after too many deliveries", entry=entry.id)
            return
        try:
            alert = _alert_decoder.decode(entry.alert)
        except msgspec.ValidationError as exc:
            await self.queue.dead_letter(entry, f"undecodable entry: {exc}")
            metrics.DEAD_LETTERS.inc()
            await self.queue.ack(entry)
            return
        began = time.time()
        trigger = Trigger.from_meta(entry.meta) if entry.meta else None
        executions = await self.dispatcher.handle(
            alert, entry.key, entry.traceparent, run=entry.run, trigger=trigger
        )
        # Only executions that failed now: a redelivered entry returns earlier records too.
        failed = [ex for ex in executions if ex.status == "failed" and (ex.finished_at or 0) >= began]
        for ex in failed:
            await self.queue.dead_letter(
                entry, ex.error or "failed", playbook=ex.playbook, execution_id=ex.id
            )
            metrics.DEAD_LETTERS.inc()
        await self.queue.ack(entry)

    async def _maintenance(self) -> None:
        interval = max(0.05, min(self.claim_idle_ms / 3000, 5.0))
        while not self._stopping.is_set():
            try:
                await self.queue.touch(self.consumer, [entry for entry, _ in self._inflight.values()])
                if self._shared < self.concurrency:
                    stale = await self.queue.claim_stale(self.consumer, self.claim_idle_ms, self._free())
                    for entry in stale:
                        if (entry.lane, entry.id) in self._inflight:
                            continue
                        log.info("reclaimed entry", entry=entry.id, deliveries=entry.deliveries)
                        # A high-lane entry takes a reserved slot when one is free.
                        slots = self._high_slots
                        if entry.lane != HIGH or slots.locked():
                            slots = self._slots
                        await slots.acquire()
                        self._spawn(entry, slots)
                await self.followups.release_due()
                await self.approvals.expire_due()
                await self.queue.trim_acknowledged()
                self._redis_ok()
            except (RedisError, OSError) as exc:
                self._redis_error(exc)
            await asyncio.sleep(interval)
