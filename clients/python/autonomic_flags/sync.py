"""`FlagClient`: the synchronous flag reader, with a daemon thread following `{prefix}changes`."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import redis
from redis.exceptions import RedisError

from autonomic_flags.contract import DEFAULT_PREFIX, changes_channel, value_key
from autonomic_flags.core import (
    ClientState,
    Listener,
    Resolution,
    as_bool,
    as_float,
    as_int,
    as_str,
    check_url,
)


class FlagClient:
    """Read flags with an in-process cache invalidated by change messages.

    >>> flags = FlagClient.from_url("redis://redis:6379/0")
    >>> tier = flags.get_str("llm.model_tier", "standard")
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        cache_ttl: float = 30.0,
        poll_interval: float = 1.0,
        retry_after: float = 1.0,
        max_entries: int = 10_000,
        subscribe: bool = True,
        owns_client: bool = False,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.state = ClientState(
            cache_ttl=cache_ttl, poll_interval=poll_interval, retry_after=retry_after, max_entries=max_entries
        )
        self._owns = owns_client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if subscribe:
            self._thread = threading.Thread(target=self._follow, name="autonomic-flags", daemon=True)
            self._thread.start()

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = 0.25, **kwargs: Any
    ) -> FlagClient:
        """A client with its own connection pool; Redis calls time out after `timeout` seconds."""
        check_url(url)
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        return cls(client, prefix=prefix, owns_client=True, **kwargs)

    @property
    def live(self) -> bool:
        """True while change messages are being received."""
        return self.state.live

    def on_change(self, listener: Listener) -> None:
        """Call `listener(name, value)` (from the subscription thread) on every change."""
        self.state.add_listener(listener)

    def get(self, name: str) -> str | None:
        """The raw value, or None when absent or unknown."""
        return self.resolve(name).value

    def get_str(self, name: str, default: str) -> str:
        return as_str(self.get(name), default)

    def get_bool(self, name: str, default: bool) -> bool:
        return as_bool(self.get(name), default)

    def get_float(self, name: str, default: float) -> float:
        return as_float(self.get(name), default)

    def get_int(self, name: str, default: int) -> int:
        return as_int(self.get(name), default)

    def resolve(self, name: str) -> Resolution:
        """The flag's raw value and its source; never raises."""
        known = self.state.without_redis(name)
        if known is not None:
            return known
        try:
            raw = self.redis.get(value_key(self.prefix, name))
        except (RedisError, OSError) as exc:
            return self.state.fetch_failed(name, exc)
        return self.state.fetched(name, raw)

    def _follow(self) -> None:
        channel = changes_channel(self.prefix)
        delay = 0.1
        while not self._stop.is_set():
            pubsub = self.redis.pubsub()  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":  # Redis confirmed: from now on nothing is missed
                        self.state.subscribed()
                        delay = 0.1
                    elif message["type"] == "message":
                        self.state.changed(message["data"])
            except (RedisError, OSError, ValueError) as exc:
                self.state.unsubscribed(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    pubsub.close()

    def close(self) -> None:
        """Stop following changes and close the connection pool if we created it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._owns:
            self.redis.close()

    def __enter__(self) -> FlagClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
