"""The embedded scheduler: APScheduler 3 on every replica, started paused; only the holder of a
renewed Redis lock resumes it and runs jobs.

APScheduler 3 cannot share a job store between replicas, so each replica keeps
the same job definitions in memory and leadership decides who runs them. The
leader renews its lock every TTL/3; if a renewal fails it pauses at once, and
another replica takes over within one lock TTL. Before each run the job checks
it still owns the lock. Every run's outcome is kept in Redis for `GET /api/jobs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from app import metrics
from app.durations import format_duration, parse_duration
from app.keys import Keys

log = structlog.get_logger(__name__)
STOP_GRACE = 5.0  # seconds stop() waits for the election loop and for running jobs
JobFn = Callable[[], Awaitable[dict[str, Any]]]


def parse_trigger(spec: str) -> BaseTrigger | None:
    """`interval:30s`, `cron:*/5 * * * *` (UTC) or `off`."""
    kind, _, value = spec.strip().partition(":")
    if kind == "off":
        return None
    if kind == "interval":
        return IntervalTrigger(seconds=parse_duration(value), timezone=UTC)
    if kind == "cron":
        return _from_crontab(value)
    raise ValueError(f"invalid job schedule {spec!r}: use interval:30s, cron:'*/5 * * * *' or off")


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab order: 0 (and 7) is Sunday


def _from_crontab(expr: str) -> CronTrigger:
    """A crontab in crontab's own meaning. APScheduler 3's `from_crontab` reads day-of-week
    numbers as 0 = Monday, so `* * * * 1` would run on Tuesdays; the field is rewritten as
    day names first."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"invalid crontab {expr!r}: expected 5 fields (minute hour day month day-of-week)")
    minute, hour, day, month, dow = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_crontab_days(dow), timezone=UTC
    )


def _crontab_days(field: str) -> str:
    """Crontab's day-of-week field (numbers 0 to 7 with 0 and 7 Sunday, names, ranges, lists,
    steps) as APScheduler's comma-separated day names."""
    if field == "*":
        return "*"

    def number(token: str) -> int:
        name = token.lower()[:3]
        if name in _DAYS:
            return _DAYS.index(name)
        if not token.isdigit() or int(token) > 7:
            raise ValueError(f"invalid day of week {token!r} in {field!r}: use 0-7 or sun-sat")
        return int(token)

    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"invalid step in day of week {field!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            start, _, end = span.partition("-")
            first, last = number(start), number(end)
        else:
            first = number(span)
            last = 6 if step else first
        if first > last:
            raise ValueError(f"invalid day-of-week range {span!r} in {field!r}")
        days.update(day % 7 for day in range(first, last + 1, step or 1))
    return ",".join(_DAYS[day] for day in sorted(days))


def period_s(trigger: BaseTrigger) -> float | None:
    """Expected seconds between two runs: the interval, or the gap between a cron's next two fires."""
    if isinstance(trigger, IntervalTrigger):
        return float(trigger.interval.total_seconds())
    now = datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return (second - first).total_seconds() if first and second else None


def describe_trigger(trigger: BaseTrigger | None) -> str:
    """A schedule in words for people (CLI, console, /api/jobs): `every 30s`, `hourly at :17`,
    `daily at 03:00 UTC`, or the crontab itself (`cron */5 * * * 1-5`); `off` when unscheduled."""
    if trigger is None:
        return "off"
    if isinstance(trigger, IntervalTrigger):
        return f"every {format_duration(trigger.interval.total_seconds())}"
    if isinstance(trigger, CronTrigger):
        fields = {field.name: str(field) for field in trigger.fields}
        minute, hour = fields["minute"], fields["hour"]
        crontab = " ".join(fields[name] for name in ("minute", "hour", "day", "month", "day_of_week"))
        rest_any = all(fields[name] == "*" for name in ("day", "month", "day_of_week"))
        if rest_any and minute.isdigit() and hour == "*":
            return f"hourly at :{int(minute):02d}"
        if rest_any and minute.isdigit() and hour.isdigit():
            return f"daily at {int(hour):02d}:{int(minute):02d} UTC"
        return f"cron {crontab}"
    return str(trigger)


class JobRun(msgspec.Struct):
    """The last run of one job."""

    job: str
    runner: str
    started_at: float
    duration_ms: float
    ok: bool
    result: Any = None
    error: str | None = None


@dataclass
class JobDef:
    """A job: its id, schedule and coroutine."""

    id: str
    trigger: BaseTrigger | None
    fn: JobFn
    description: str
    first_run: datetime | None = None


class LeaderScheduler:
    """Runs jobs on the elected leader only."""

    def __init__(
        self, redis: Redis, namespace: str, *, replica: str, lock_ttl_s: float, misfire_grace_s: float = 60
    ) -> None:
        self.redis = redis
        self.ns = namespace
        self.keys = Keys(namespace)
        self.replica = replica
        self.lock_ttl_s = lock_ttl_s
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(misfire_grace_s)},
        )
        self.jobs: dict[str, JobDef] = {}
        self.leading = False
        self._lock: Lock = redis.lock(self.keys.leader, timeout=lock_ttl_s, blocking=False)
        self._task: asyncio.Task[None] | None = None
        self._running: set[str] = set()
        self._idle = asyncio.Event()  # no job is running (stop waits for it)
        self._idle.set()
        self._stopping = False

    def add(self, job: JobDef) -> None:
        """Define a job (on every replica); it runs only while this replica leads."""
        self.jobs[job.id] = job
        if job.trigger is not None:
            period = period_s(job.trigger)
            if period is not None:
                metrics.JOB_INTERVAL.labels(job.id).set(period)
            extra: dict[str, Any] = {"next_run_time": job.first_run} if job.first_run else {}
            self.scheduler.add_job(
                self.run, job.trigger, args=[job.id], id=job.id, name=job.id, replace_existing=True, **extra
            )

    async def start(self) -> None:
        """Start the scheduler paused and the election loop."""
        self._stopping = False
        self.scheduler.start(paused=True)
        self._task = asyncio.create_task(self._elect(), name="autonomic-leader")

    async def stop(self) -> None:
        """Stop scheduling, let a running job finish (for up to `STOP_GRACE`: it would fail once
        the connections close), and give up leadership. Never hangs: a Redis call that swallows
        the election loop's cancellation is left behind, and the loop ends at its next turn."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            done, _ = await asyncio.wait([self._task], timeout=STOP_GRACE)
            if not done:
                log.warning("scheduler election loop did not stop in time; left behind")
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; shutdown would cancel a running one
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), STOP_GRACE)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.leading:
            with contextlib.suppress(LockError, RedisError):
                await self._lock.release()
                await self.redis.delete(self.keys.leader_name)
            self.leading = False
            metrics.SCHEDULER_LEADER.set(0)

    async def _elect(self) -> None:
        interval = self.lock_ttl_s / 3
        while not self._stopping:
            try:
                if self.leading:
                    await self._lock.reacquire()
                elif await self._lock.acquire(blocking=False):
                    await self.redis.set(self.keys.leader_name, self.replica, ex=int(self.lock_ttl_s) + 1)
                    await self._mark_scheduled()
                    self.leading = True
                    metrics.SCHEDULER_LEADER.set(1)
                    self.scheduler.resume()
                    log.info("scheduler leadership acquired", replica=self.replica)
                if self.leading:
                    await self.redis.set(self.keys.leader_name, self.replica, ex=int(self.lock_ttl_s) + 1)
            except (LockError, RedisError, OSError) as exc:
                if self.leading:
                    self.leading = False
                    metrics.SCHEDULER_LEADER.set(0)
                    self.scheduler.pause()
                    log.warning("scheduler leadership lost", replica=self.replica, error=str(exc))
            await asyncio.sleep(interval)

    async def _mark_scheduled(self) -> None:
        """Give each scheduled job that never succeeded a starting point for "last success" (now),
        so a job failing from its first run still trips AutonomicJobNotSucceeding."""
        pipe = self.redis.pipeline(transaction=False)
        for job_id, job in self.jobs.items():
            if job.trigger is not None:
                pipe.hsetnx(self.keys.job_successes, job_id, str(time.time()))
        await pipe.execute()

    async def leader(self) -> str | None:
        """The replica that leads now, if any."""
        name = await self.redis.get(self.keys.leader_name)
        return str(name) if name else None

    async def run(self, job_id: str, *, manual: bool = False) -> JobRun | None:
        """Run one job now (scheduled runs only while leading); record the outcome."""
        job = self.jobs[job_id]
        if job_id in self._running or (self._stopping and not manual):
            return None
        # Running from here on, the ownership check included: stop() waits for a run that
        # has begun rather than closing the connections under it.
        self._running.add(job_id)
        self._idle.clear()
        try:
            if not manual and not (self.leading and await self._owns()):
                return None
            return await self._run_and_record(job)
        finally:
            self._running.discard(job_id)
            if not self._running:
                self._idle.set()

    async def _run_and_record(self, job: JobDef) -> JobRun:
        job_id = job.id
        started, clock = time.time(), time.perf_counter()
        try:
            result = await job.fn()
            run = JobRun(job_id, self.replica, started, (time.perf_counter() - clock) * 1000, True, result)
        except Exception as exc:
            log.exception("job failed", job=job_id)
            run = JobRun(
                job_id,
                self.replica,
                started,
                (time.perf_counter() - clock) * 1000,
                False,
                error=f"{type(exc).__name__}: {exc}",
            )
        metrics.JOB_RUNS.labels(job_id, "succeeded" if run.ok else "failed").inc()
        data = msgspec.json.encode(run)
        pipe = self.redis.pipeline(transaction=False)
        if run.ok:
            pipe.hset(self.keys.job_successes, job_id, str(run.started_at + run.duration_ms / 1000))
        pipe.set(self.keys.job_last(job_id), data)
        pipe.lpush(self.keys.job_runs(job_id), data)
        pipe.ltrim(self.keys.job_runs(job_id), 0, 99)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:  # the run happened; only its record is lost
            log.warning("job run not recorded", job=job_id, error=str(exc))
        return run

    async def _owns(self) -> bool:
        try:
            return bool(await self._lock.owned())
        except (RedisError, OSError):
            return False

    def running(self, job_id: str) -> bool:
        """True while `job_id` runs on this replica."""
        return job_id in self._running

    async def status(self) -> list[dict[str, Any]]:
        """Every job with its schedule, next run (on the leader's clock) and last run."""
        out = []
        for job_id, job in self.jobs.items():
            raw = await self.redis.get(self.keys.job_last(job_id))
            scheduled = self.scheduler.get_job(job_id)
            out.append(
                {
                    "id": job_id,
                    "description": job.description,
                    "schedule": describe_trigger(job.trigger),
                    "next_run": scheduled.next_run_time.timestamp()
                    if scheduled and scheduled.next_run_time
                    else None,
                    "last_run": msgspec.json.decode(raw) if raw else None,
                }
            )
        return out
