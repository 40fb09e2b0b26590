"""Our asyncio Redis connection classes, two savings on redis-py's per-command Python cost:

- Command packing in C: redis-py's asyncio connections build every command's RESP bytes in
  Python (a fifth of a busy replica's CPU in the drain profile), while its sync client already
  packs with hiredis. These classes pack the same way the sync client does
  (`HiredisRespSerializer`): same bytes, `DataError` for an unencodable argument.
- One deadline per batch: redis-py enters an `asyncio.timeout` for every reply it reads (a
  tenth of a draining replica's CPU, most of it in coalesced pipelines of hundreds of
  replies). Code that bounds a whole batch itself runs it under `batch_deadline()`, and the
  connection then reads that batch's replies without a timeout each. A cancelled read still
  drops the connection (redis-py's own handling), so a late reply cannot desync the next user;
  past the deadline, redis-py's `TimeoutError` is raised, as for one stalled reply.

Redis Cluster and `memory://` keep redis-py's own connections.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.asyncio.sentinel import SentinelManagedConnection
from redis.connection import HiredisRespSerializer
from redis.exceptions import TimeoutError as RedisTimeoutError

_serializer = HiredisRespSerializer()
# The task running under a batch deadline: only its own reads skip their timeout, not a task
# it happens to start (that task's context is a copy, deadline flag included).
_deadline_task: ContextVar[asyncio.Task[Any] | None] = ContextVar("autonomic_batch_deadline", default=None)


@asynccontextmanager
async def batch_deadline(seconds: float | None) -> AsyncIterator[None]:
    """Bound everything inside by one `seconds` deadline (none when None) and let our
    connections skip their per-reply timeout meanwhile. Past it, redis-py's `TimeoutError`
    is raised, as a per-reply timeout would have."""
    token = _deadline_task.set(asyncio.current_task() if seconds is not None else None)
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            yield
    except TimeoutError:
        if deadline.expired():
            raise RedisTimeoutError(f"Redis did not answer a batch within {seconds:g}s") from None
        raise
    finally:
        _deadline_task.reset(token)


class _HiredisPacking:
    """Packs each command with hiredis and honours `batch_deadline` (the rest of the
    connection is redis-py's)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command."""
        packed: list[bytes] = _serializer.pack(*args)
        return packed

    async def read_response(  # redis-py's signature
        self,
        disable_decoding: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109
        **kw: Any,
    ) -> Any:
        """One reply; under a batch deadline, without a timeout of its own (`math.inf` is
        redis-py's "no timeout" for one read)."""
        owner = _deadline_task.get()
        if timeout is None and owner is not None and owner is asyncio.current_task():
            timeout = math.inf
        return await super().read_response(disable_decoding, timeout, **kw)  # type: ignore[misc]


class HiredisConnection(_HiredisPacking, Connection):
    """A TCP connection packing commands with hiredis."""


class HiredisSSLConnection(_HiredisPacking, SSLConnection):
    """A TLS connection packing commands with hiredis."""


class HiredisUnixConnection(_HiredisPacking, UnixDomainSocketConnection):
    """A Unix-socket connection packing commands with hiredis."""


class HiredisSentinelConnection(_HiredisPacking, SentinelManagedConnection):
    """A connection to the primary Sentinel names, packing commands with hiredis."""


BY_SCHEME: dict[str, type[AbstractConnection]] = {
    "redis": HiredisConnection,
    "rediss": HiredisSSLConnection,
    "unix": HiredisUnixConnection,
}
