"""The client's cache, failure memory and value parsing, shared by the sync and async clients.

Freshness: while the change subscription is live a cached value is trusted for
`cache_ttl` (changes arrive by message, the TTL only bounds drift from writes
that bypass Autonomic); while it is down, for `poll_interval`, so the client
falls back to polling with bounded staleness. After a Redis error the client
does not touch Redis for `retry_after` seconds and serves the last known
value (or the caller's default) — a flag read never raises into a request.
The cache is an LRU bounded to `max_entries` names (default 10,000), so
per-user flags such as `ratelimit.user.<id>` cannot grow it without limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from autonomic_flags.contract import parse_bool, parse_message

log = logging.getLogger("autonomic_flags")

Source = Literal["cache", "redis", "stale", "missing"]
Listener = Callable[[str, "str | None"], None]


@dataclass(frozen=True, slots=True)
class Resolution:
    """A flag's raw value and where it came from (`stale`: Redis failed, last known value)."""

    name: str
    value: str | None
    source: Source
    error: str | None = None


class ClientState:
    """Cache + subscription liveness + failure back-off; thread-safe."""

    def __init__(
        self, *, cache_ttl: float, poll_interval: float, retry_after: float, max_entries: int = 10_000
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.cache_ttl = cache_ttl
        self.poll_interval = poll_interval
        self.retry_after = retry_after
        self.max_entries = max_entries
        self._values: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._live = False
        self._failed_at: float | None = None
        self._listeners: list[Listener] = []

    # -- cache -----------------------------------------------------------------------------

    def fresh(self, name: str) -> tuple[bool, str | None]:
        """(hit, value) for a value young enough to serve without asking Redis."""
        with self._lock:
            item = self._values.get(name)
            if item is not None:
                self._values.move_to_end(name)
            limit = self.cache_ttl if self._live else self.poll_interval
        if item is not None and time.monotonic() - item[1] < limit:
            return True, item[0]
        return False, None

    def last_known(self, name: str) -> tuple[bool, str | None]:
        """(known, value) regardless of age."""
        with self._lock:
            item = self._values.get(name)
        return (True, item[0]) if item is not None else (False, None)

    def store(self, name: str, value: str | None) -> None:
        with self._lock:
            self._values[name] = (value, time.monotonic())
            self._values.move_to_end(name)
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)

    # -- subscription ----------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """True while change messages are being received."""
        return self._live

    def subscribed(self) -> None:
        """The subscription is (re)established: anything cached may have missed changes."""
        with self._lock:
            self._values.clear()
            was_live, self._live = self._live, True
        if not was_live:
            log.info("autonomic flag subscription active")

    def unsubscribed(self, exc: BaseException) -> None:
        with self._lock:
            was_live, self._live = self._live, False
        if was_live:
            log.warning("autonomic flag subscription lost (%s); polling until it returns", type(exc).__name__)

    def changed(self, data: str | bytes) -> None:
        """Apply one change message and tell the listeners."""
        change = parse_message(data)
        if change is None:
            return
        self.store(change.flag, change.value)
        for listener in list(self._listeners):
            try:
                listener(change.flag, change.value)
            except Exception:
                log.exception("flag change listener failed")

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- failures --------------------------------------------------------------------------

    def backing_off(self) -> bool:
        """True while we should not try Redis again after a failure."""
        failed = self._failed_at
        return failed is not None and time.monotonic() - failed < self.retry_after

    def failed(self, exc: BaseException) -> None:
        if self._failed_at is None:
            log.warning(
                "autonomic flags unavailable (%s: %s); serving last known values or defaults",
                type(exc).__name__,
                exc,
            )
        self._failed_at = time.monotonic()

    def succeeded(self) -> None:
        if self._failed_at is not None:
            log.info("autonomic flags reachable again")
            self._failed_at = None

    def without_redis(self, name: str) -> Resolution | None:
        """The answer when Redis need not (fresh cache) or should not (back-off) be asked."""
        hit, value = self.fresh(name)
        if hit:
            return Resolution(name, value, "cache")
        return self.fallback(name) if self.backing_off() else None

    def fetched(self, name: str, raw: object) -> Resolution:
        """Cache and return a value just read from Redis."""
        self.succeeded()
        value = None if raw is None else str(raw)
        self.store(name, value)
        return Resolution(name, value, "redis")

    def fetch_failed(self, name: str, exc: BaseException) -> Resolution:
        """Remember a Redis failure and answer from what is known."""
        self.failed(exc)
        return self.fallback(name, exc)

    def fallback(self, name: str, exc: BaseException | None = None) -> Resolution:
        known, value = self.last_known(name)
        error = f"{type(exc).__name__}: {exc}" if exc else "redis unavailable"
        return Resolution(name, value, "stale", error) if known else Resolution(name, None, "missing", error)


def check_url(url: str) -> None:
    """Refuse `memory://`: that Redis lives inside the Autonomic process and no one else can reach it."""
    if url.split("://", 1)[0].lower() == "memory":
        raise ValueError(
            "memory:// is the Redis embedded in the Autonomic process; an application cannot reach it. "
            "Point Autonomic and the application at the same redis:// URL, or read flags over OFREP "
            "(POST /ofrep/v1/evaluate/flags/{key}; see docs/flags.md)."
        )


def as_str(value: str | None, default: str) -> str:
    """`value`, or `default` when absent."""
    return default if value is None else value


def as_bool(value: str | None, default: bool) -> bool:
    """`value` as a boolean, or `default` when absent or not a boolean word."""
    parsed = None if value is None else parse_bool(value)
    return default if parsed is None else parsed


def as_float(value: str | None, default: float) -> float:
    """`value` as a float, or `default` when absent or not a number."""
    try:
        return default if value is None else float(value)
    except ValueError:
        return default


def as_int(value: str | None, default: int) -> int:
    """`value` as an integer, or `default` when absent or not an integer."""
    try:
        return default if value is None else int(value)
    except ValueError:
        return default
