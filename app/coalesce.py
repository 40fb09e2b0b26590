"""Auto-pipelining: concurrent callers' Redis commands share one round trip.

Each caller queues a function that adds its commands to a pipeline and awaits
its own slice of the replies. While one pipeline is in flight, new callers
accumulate for the next, so under load the round trips (and redis-py's
per-call overhead) are shared, while a lone caller still goes out at once.
Urgent work (a high-lane execution, see `URGENT`) does not queue behind the batch
in flight: its commands go out at once in a pipeline of their own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from app.redis_packing import batch_deadline

MAX_CALLERS = 256
# True in the task of a high-lane execution, up to HIGH_LANE_WORKERS at once (set in
# app/engine/workers.py): under a storm a batch in flight carries hundreds of callers, and
# waiting for it on every round trip would add up. Tasks started from such an execution
# inherit it: a long-lived one must reset it.
URGENT: ContextVar[bool] = ContextVar("autonomic_urgent", default=False)


class Coalescer:
    """Batches callers' commands into pipelines (a MULTI/EXEC one when `transaction`)."""

    def __init__(self, redis: Redis, *, transaction: bool) -> None:
        self.redis = redis
        self.transaction = transaction
        self._waiting: deque[tuple[Callable[[Pipeline], int], asyncio.Future[list[Any]]]] = deque()
        self._task: asyncio.Task[None] | None = None
        # A batch gets one socket timeout in all (connecting, a retry after a dropped
        # connection, every reply), as one command gets for each of those steps. Redis
        # Cluster keeps per-command timeouts: its client has no single pool.
        pool = getattr(redis, "connection_pool", None)
        self._deadline: float | None = pool.connection_kwargs.get("socket_timeout") if pool else None

    async def run(self, add: Callable[[Pipeline], int]) -> list[Any]:
        """`add(pipe)` queues commands and returns how many; get their replies, in order."""
        if URGENT.get():
            return await self._alone(add)
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((add, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        return await future

    async def _alone(self, add: Callable[[Pipeline], int]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=self.transaction)
        add(pipe)
        async with batch_deadline(self._deadline):
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        error = _first_error(replies)
        if error is not None:
            raise error
        return replies

    async def _flush(self) -> None:
        while self._waiting:
            batch = [self._waiting.popleft() for _ in range(min(MAX_CALLERS, len(self._waiting)))]
            try:
                pipe = self.redis.pipeline(transaction=self.transaction)
                counts = [add(pipe) for add, _ in batch]
                async with batch_deadline(self._deadline):
                    replies = await pipe.execute(raise_on_error=False)
            except Exception as exc:  # the connection failed (or the client refused): every caller sees it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            offset = 0
            for (_, future), count in zip(batch, counts, strict=True):
                mine = replies[offset : offset + count]
                offset += count
                if future.done():
                    continue
                error = _first_error(mine)
                if error is not None:  # one caller's failing command does not fail the others
                    future.set_exception(error)
                else:
                    future.set_result(mine)


def _first_error(replies: list[Any]) -> Exception | None:
    """The first command error among one caller's replies (pipelines return errors as values)."""
    return next((r for r in replies if isinstance(r, Exception)), None)


class CoalescedScript:
    """A Lua script whose concurrent calls share one pipeline of EVALSHAs (each call is still
    its own atomic script). Redis Cluster pipelines refuse scripts: there, one call each. A
    script cache Redis lost (a restart, SCRIPT FLUSH) is loaded again."""

    def __init__(self, redis: Redis, source: str) -> None:
        self.redis = redis
        self.source = source
        self.script = redis.register_script(source)
        self._calls = Coalescer(redis, transaction=False)
        self._cluster = isinstance(redis, RedisCluster)

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        """The script's reply for `keys` and `args`."""
        if self._cluster:
            return await self.script(keys=keys, args=args)

        def add(pipe: Pipeline) -> int:
            pipe.evalsha(self.script.sha, len(keys), *keys, *args)
            return 1

        try:
            (reply,) = await self._calls.run(add)
        except NoScriptError:
            await self.redis.script_load(self.source)
            (reply,) = await self._calls.run(add)
        return reply
