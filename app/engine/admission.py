"""Intake admission: webhooks take turns while this replica's workers are saturated.

Intake and execution share one event loop. A client that posts as fast as it is
answered (a flood) would otherwise take nearly all of it: every webhook is
handled the moment it arrives, while each execution needs several turns of the
loop, so execution slowed to a crawl while the queue filled. While every worker
slot is busy, at most `permits` webhooks are handled at once; the others wait
(their connections idle, costing the loop nothing), in arrival order. A webhook
that waits longer than `wait_s` is answered 503 with Retry-After, which
Alertmanager retries. While a worker slot is free, webhooks pass untouched, so a
storm is still queued at full speed when execution keeps up (or the queue is
empty); a webhook carrying a high-lane alert (critical, page) never waits;
`QUEUE_MAX_LEN` still bounds the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


class Overloaded(Exception):
    """Execution is saturated and the webhook's turn did not come in time: answer 503."""


class IntakeGate:
    """At most `permits` webhooks at once while `saturated()` (0: none, each is answered 503)."""

    def __init__(self, *, permits: int, wait_s: float, saturated: Callable[[], bool]) -> None:
        self.permits = permits
        self.wait_s = wait_s
        self.saturated = saturated
        self._turns: asyncio.Semaphore | None = None

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a turn for one webhook; raises Overloaded when none comes within `wait_s`."""
        if not self.saturated():
            yield
            return
        if self.permits <= 0:
            raise Overloaded("execution saturated")
        if self._turns is None:  # created on first use, in the serving loop
            self._turns = asyncio.Semaphore(self.permits)
        turns = self._turns
        try:
            async with asyncio.timeout(self.wait_s):
                await turns.acquire()  # waiters are served in arrival order
        except TimeoutError:
            raise Overloaded(f"execution saturated; no turn within {self.wait_s:g}s") from None
        try:
            yield
        finally:
            turns.release()
