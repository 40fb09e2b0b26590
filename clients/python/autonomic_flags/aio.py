"""`AsyncFlagClient`: the asyncio flag reader, with a task following `{prefix}changes`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio as aioredis
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


class AsyncFlagClient:
    """Read flags from asyncio code with an in-process cache invalidated by change messages.

    >>> async with AsyncFlagClient.from_url("redis://redis:6379/0") as flags:
    ...     tier = await flags.get_str("llm.model_tier", "standard")
    """

    def __init__(
        self,
        client: aioredis.Redis,
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
        self._subscribe = subscribe
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = 0.25, **kwargs: Any
    ) -> AsyncFlagClient:
        """A client with its own connection pool; Redis calls time out after `timeout` seconds."""
        check_url(url)
        client = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        return cls(client, prefix=prefix, owns_client=True, **kwargs)

    async def start(self) -> None:
        """Start following changes (idempotent)."""
        if self._subscribe and self._task is None:
            self._task = asyncio.create_task(self._follow(), name="autonomic-flags")

    @property
    def live(self) -> bool:
        """True while change messages are being received."""
        return self.state.live

    def on_change(self, listener: Listener) -> None:
        """Call `listener(name, value)` on every change."""
        self.state.add_listener(listener)

    async def resolve(self, name: str) -> Resolution:
        """The flag's raw value and its source; never raises."""
        known = self.state.without_redis(name)
        if known is not None:
            return known
        try:
            raw = await self.redis.get(value_key(self.prefix, name))
        except (RedisError, OSError) as exc:
            return self.state.fetch_failed(name, exc)
        return self.state.fetched(name, raw)

    async def get(self, name: str) -> str | None:
        """The raw value, or None when absent or unknown."""
        return (await self.resolve(name)).value

    async def get_str(self, name: str, default: str) -> str:
        return as_str(await self.get(name), default)

    async def get_bool(self, name: str, default: bool) -> bool:
        return as_bool(await self.get(name), default)

    async def get_float(self, name: str, default: float) -> float:
        return as_float(await self.get(name), default)

    async def get_int(self, name: str, default: int) -> int:
        return as_int(await self.get(name), default)

    async def _follow(self) -> None:
        channel = changes_channel(self.prefix)
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
                        self.state.subscribed()
                        delay = 0.1
                    elif message["type"] == "message":
                        self.state.changed(message["data"])
            except (RedisError, OSError, ValueError) as exc:
                self.state.unsubscribed(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        """Stop following changes and close the connection pool if we created it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._owns:
            await self.redis.aclose()

    async def __aenter__(self) -> AsyncFlagClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
