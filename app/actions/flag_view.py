"""`FlagView`: an in-memory mirror of the flag values, kept fresh by the `{prefix}changes` channel.

It lets the OFREP endpoint answer from memory, with no Redis round trip per
evaluation. Freshness is the application flag client's (`autonomic_flags`):
while the subscription is live a change reaches the view as a message, and a
full re-read every `cache_ttl` (30 s) bounds drift from writes that bypass
Autonomic (paced at REFRESH_RATE flags/s: beyond 15,000 flags a re-read takes
longer than that); while it is down the view re-reads every `poll_interval` (1 s).
The view tracks the flags under lease (the lease index), the catalogue's
flags, and every other flag it has seen with a value; a name it does not
know is read once and remembered (absent names in an LRU of `max_absent`).
With Redis unreachable it serves what it last knew and retries after
`retry_after`. Read-only: nothing here writes to Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.keys import FlagKeys

STOP_GRACE = 5.0  # seconds stop() waits for its tasks to end

log = structlog.get_logger(__name__)
BASELINE = "~baseline"
CACHE_TTL_S = 30.0  # = autonomic_flags' cache_ttl
POLL_INTERVAL_S = 1.0  # = autonomic_flags' poll_interval
RETRY_AFTER_S = 1.0  # = autonomic_flags' retry_after
READ_BATCH = 1000  # flags per pipelined read
# The periodic re-read is paced: in a storm that leases 100,000 flags, reading them all at once
# every 15 s took seconds of the event loop each time (a critical alert's p99: 268 ms, 56 ms
# without). At this rate, re-reading stays a few percent of one core; a re-read of N flags
# takes N / REFRESH_RATE seconds (1 s for 1,000), which bounds drift for large flag sets.
REFRESH_BATCH = 100  # flags per paced read
REFRESH_RATE = 1000.0  # flags per second, at most, for the periodic re-read


@dataclass(frozen=True, slots=True)
class FlagEntry:
    """A flag that has a value: the value and who holds it."""

    name: str
    value: str
    holders: int = 0
    holder: str | None = None
    expires_at_ms: int | None = None

    @property
    def reason(self) -> str:
        """`set by <holder>` while a lease holds the value, else `baseline`."""
        return f"set by {self.holder}" if self.holder else "baseline"


def entry_of(name: str, value: str | None, leases: dict[str, str], now_ms: int) -> FlagEntry | None:
    """The entry for a flag's value and its leases hash (None when the flag is absent)."""
    if value is None:
        return None
    live: list[tuple[int, str, int]] = []
    for holder, text in leases.items():
        if holder == BASELINE:
            continue
        try:
            lease = json.loads(text)
            at, exp = int(lease["at"]), int(lease["exp"])
        except (ValueError, KeyError, TypeError):
            continue
        if exp > now_ms:
            live.append((at, holder, exp))
    if not live:
        return FlagEntry(name, value)
    _, holder, _ = max(live)
    return FlagEntry(name, value, len(live), holder, max(exp for _, _, exp in live))


def _count(value: object) -> int | None:
    """`value` if it is a JSON integer ≥ 0, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class FlagsUnavailable(RuntimeError):
    """Redis cannot be read and the view knows nothing about the flag."""


class FlagView:
    """Flag values in memory for readers that must not wait on Redis."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        index_key: str,
        tracked: Iterable[str] = (),
        cache_ttl: float = CACHE_TTL_S,
        poll_interval: float = POLL_INTERVAL_S,
        retry_after: float = RETRY_AFTER_S,
        max_absent: int = 10_000,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.flag_keys = FlagKeys(prefix)
        self.index_key = index_key
        self.cache_ttl = cache_ttl
        self.poll_interval = poll_interval
        self.retry_after = retry_after
        self.max_absent = max_absent
        self.version = 0
        self._tracked = list(tracked)
        self._entries: dict[str, FlagEntry] = {}
        self._checked: dict[str, float] = {}
        self._absent: OrderedDict[str, float] = OrderedDict()
        self._seq = 0
        self._changed_at: dict[str, int] = {}  # name → seq of its last change message
        self._dirty: set[str] = set()
        self._live = False
        self._refreshed_at = 0.0
        self._generation = 0  # bumped by each (re)subscribe: a re-read begun before is not enough
        self._loaded = False
        self._failed_at: float | None = None
        self._reads: dict[str, asyncio.Future[FlagEntry | None]] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- reading --------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """True while change messages are being received."""
        return self._live

    def _limit(self) -> float:
        return self.cache_ttl if self._live else self.poll_interval

    def lookup(self, name: str) -> tuple[bool, FlagEntry | None]:
        """(known and fresh, entry) without I/O."""
        now = time.monotonic()
        entry = self._entries.get(name)
        if entry is not None:
            return now - self._checked.get(name, 0.0) < self._limit(), entry
        checked = self._absent.get(name)
        return checked is not None and now - checked < self._limit(), None

    @property
    def loaded(self) -> bool:
        """True once every tracked flag has been read at least once."""
        return self._loaded

    async def get(self, name: str) -> FlagEntry | None:
        """The flag's entry: from memory when fresh, else read once (concurrent callers share it).

        Raises FlagsUnavailable when Redis cannot be read and nothing is known about `name`.
        """
        fresh, entry = self.lookup(name)
        if fresh:
            return entry
        if not self._backing_off():
            pending = self._reads.get(name)
            if pending is None:
                pending = asyncio.get_running_loop().create_future()
                self._reads[name] = pending
                try:
                    await self._read([name])
                except (RedisError, OSError) as exc:
                    self._failed(exc)
                finally:
                    del self._reads[name]
                    pending.set_result(None)
            await asyncio.shield(pending)
        if name in self._entries or name in self._absent:
            return self._entries.get(name)
        raise FlagsUnavailable(f"flags unavailable: redis cannot be read and {name!r} is not known")

    def active(self) -> list[FlagEntry]:
        """Every flag the view knows to have a value, by name."""
        return [self._entries[name] for name in sorted(self._entries)]

    # -- updating -------------------------------------------------------------------------

    def _set(self, name: str, entry: FlagEntry | None, now: float) -> None:
        old = self._entries.get(name)
        if entry is None:
            self._entries.pop(name, None)
            self._checked.pop(name, None)
            self._absent[name] = now
            self._absent.move_to_end(name)
            while len(self._absent) > self.max_absent:
                self._absent.popitem(last=False)
        else:
            self._entries[name] = entry
            self._checked[name] = now
            self._absent.pop(name, None)
        if old != entry:
            self.version += 1

    async def _read(self, names: list[str], *, since_seq: int | None = None) -> None:
        """Read `names` from Redis and apply them (skipping any a newer message has changed)."""
        seq = self._seq if since_seq is None else since_seq
        for start in range(0, len(names), READ_BATCH):  # bounded replies: a storm leases 100,000 flags
            batch = names[start : start + READ_BATCH]
            pipe = self.redis.pipeline(transaction=False)
            for name in batch:
                pipe.get(self.flag_keys.value(name))
                pipe.hgetall(self.flag_keys.leases(name))
            replies = await pipe.execute()
            self._succeeded()
            now, now_ms = time.monotonic(), int(time.time() * 1000)
            for i, name in enumerate(batch):
                if self._changed_at.get(name, -1) > seq:
                    continue  # a message newer than this read arrived meanwhile; it wins
                value, leases = replies[2 * i], replies[2 * i + 1]
                self._set(name, entry_of(name, value, leases or {}, now_ms), now)

    async def refresh(self, *, paced: bool = False) -> None:
        """Re-read every tracked flag, `paced` at REFRESH_RATE (raises RedisError / OSError when
        Redis is unreachable). Change messages arriving meanwhile win over what is read."""
        seq, generation, began = self._seq, self._generation, time.monotonic()
        indexed: Any = await self.redis.zrange(self.index_key, 0, -1)
        names = sorted({*indexed, *self._tracked, *self._entries})
        if paced:
            # A flag a change message (or a read) vouched for within half the staleness bound
            # needs no re-read yet: in a storm, that is nearly every flag.
            since = time.monotonic() - self._limit() * 0.5
            names = [name for name in names if self._checked.get(name, 0.0) <= since]
            for start in range(0, len(names), REFRESH_BATCH):
                if start:
                    await asyncio.sleep(REFRESH_BATCH / REFRESH_RATE)
                await self._read(names[start : start + REFRESH_BATCH])  # messages newer than this batch win
        else:
            await self._read(names, since_seq=seq)
        if generation == self._generation:  # else a resubscribe asked for a whole re-read meanwhile
            self._refreshed_at = began  # the bound runs from when the pass began
        self._loaded = True

    def changed(self, data: str | bytes) -> None:
        """Apply one message of the changes channel at once. A message without the lease figures
        (an older server) is applied as far as it goes and the flag re-read shortly after."""
        try:
            message = json.loads(data)
            name, value = message["flag"], message.get("value")
        except (ValueError, KeyError, TypeError):
            return
        if not isinstance(name, str) or not (value is None or isinstance(value, str)):
            return
        self._seq += 1
        self._changed_at[name] = self._seq
        old = self._entries.get(name)
        reason = message.get("reason") if isinstance(message.get("reason"), str) else ""
        entry = None
        held, holder, expires = _count(message.get("held")), message.get("holder"), _count(message.get("exp"))
        whole = held == 0 or (held is not None and isinstance(holder, str) and expires is not None)
        if value is not None and whole:  # the message carries the whole entry (flags.lua)
            entry = FlagEntry(name, value)
            if held and isinstance(holder, str):
                entry = FlagEntry(name, value, held, holder, expires)
        elif value is not None:  # an older publisher: guess now, re-read the holders shortly
            holder = reason[len("set by ") :] if reason.startswith("set by ") else None
            holders = max(old.holders if old else 0, 1) if holder else 0
            entry = FlagEntry(name, value, holders, holder, old.expires_at_ms if old and holder else None)
        self._set(name, entry, time.monotonic())
        if not whole:
            self._dirty.add(name)
            self._wake.set()

    # -- failures -------------------------------------------------------------------------

    def _backing_off(self) -> bool:
        failed = self._failed_at
        return failed is not None and time.monotonic() - failed < self.retry_after

    def _failed(self, exc: BaseException) -> None:
        if self._failed_at is None:
            log.warning("flag view cannot read redis; serving what it last knew", error=type(exc).__name__)
        self._failed_at = time.monotonic()

    def _succeeded(self) -> None:
        if self._failed_at is not None:
            log.info("flag view reads redis again")
            self._failed_at = None

    # -- background tasks -----------------------------------------------------------------

    async def start(self) -> None:
        """Load the flags and start following changes (idempotent)."""
        if self._tasks:
            return
        with contextlib.suppress(RedisError, OSError):
            await self.refresh()
        self._tasks = [
            asyncio.create_task(self._follow(), name="autonomic-flag-view-follow"),
            asyncio.create_task(self._keep_fresh(), name="autonomic-flag-view-refresh"),
        ]

    async def stop(self) -> None:
        """Stop the background tasks. One stuck in a Redis call that ignores cancellation is
        left behind after `STOP_GRACE` seconds: shutting down must never hang on a reader."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_GRACE)
            if stuck:
                log.warning("flag view tasks did not stop in time; left behind", count=len(stuck))
        self._tasks = []

    async def _follow(self) -> None:
        channel = self.flag_keys.changes
        delay = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(channel)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Messages may have been missed before this point: re-read everything.
                        self._live, self._refreshed_at = True, 0.0
                        self._generation += 1
                        self._wake.set()
                        delay = 0.1
                    elif message["type"] == "message":
                        self.changed(message["data"])
            except (RedisError, OSError, ValueError) as exc:
                if self._live:
                    log.warning(
                        "flag change subscription lost; re-reading every poll interval", error=str(exc)
                    )
                    self._wake.set()  # the refresh schedule shortens to the poll interval now
                self._live = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _keep_fresh(self) -> None:
        while True:
            due = self._refreshed_at + self._limit() * 0.5 - time.monotonic()
            if due > 0 and not self._dirty:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), due)
            self._wake.clear()
            try:
                if time.monotonic() - self._refreshed_at >= self._limit() * 0.5:
                    self._dirty.clear()
                    # Paced only the periodic re-read while messages flow: the one after
                    # (re)subscribing, and polling while the subscription is down, at once.
                    await self.refresh(paced=self._live and self._refreshed_at > 0)
                elif self._dirty:
                    names, seq = sorted(self._dirty), self._seq
                    self._dirty.clear()
                    await self._read(names, since_seq=seq)
            except (RedisError, OSError) as exc:
                self._failed(exc)
                await asyncio.sleep(self.retry_after)
