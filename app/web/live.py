"""Live updates for the console: a server-sent-events stream at `/ui/events` that says which
sections changed, so the page re-fetches them at once instead of waiting for its next poll.

Fed by the `{prefix}changes` channel (event `flags`: the mitigations table and the
timeline) and the executions stream (event `executions`: executions and approvals; its
newest id is checked once a second, one cheap XREVRANGE). A stream ends itself after
`LIFETIME_S` — the browser's EventSource reconnects on its own — so no connection keeps
a replica from shutting down; while Redis is unreachable it ends at once and the page
falls back to polling (console.js).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar.response import ServerSentEventMessage
from redis.exceptions import RedisError

from app.engine.runtime import Runtime

LIFETIME_S = 55.0
RETRY_MS = 2000


async def _newest(runtime: Runtime) -> str:
    newest: Any = await runtime.clients.commands.xrevrange(runtime.keys.executions, count=1)
    return str(newest[0][0]) if newest else ""


async def events(runtime: Runtime, *, lifetime: float = LIFETIME_S) -> AsyncIterator[ServerSentEventMessage]:
    """`ready` once subscribed, then `flags` / `executions` as they change, until `lifetime` ends."""
    pubsub = runtime.clients.commands.pubsub()
    try:
        await pubsub.subscribe(runtime.flags.flag_keys.changes)
        last = await _newest(runtime)
        yield ServerSentEventMessage(event="ready", data="live", retry=RETRY_MS)
        deadline = time.monotonic() + lifetime
        while time.monotonic() < deadline:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            flagged = False
            while message is not None:  # drain a burst into one event
                flagged = flagged or message.get("type") == "message"
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
            if flagged:
                yield ServerSentEventMessage(event="flags", data="changed")
            newest = await _newest(runtime)
            if newest != last:
                last = newest
                yield ServerSentEventMessage(event="executions", data=newest)
    except (RedisError, OSError):
        return  # the page polls until it reconnects
    finally:
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
