"""Durable follow-ups ("page if still firing in 10 minutes"): a sorted set by due time in Redis.

Scheduling is idempotent (keyed by the scheduling action's idempotency key).
Every replica polls; one Lua call moves each due follow-up into the work queue
exactly once, as an entry naming the playbook to run, on the high-priority lane. A resolved alert
cancels its follow-ups, and dispatch skips a follow-up whose episode resolved.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.engine import queue_entry
from app.engine.lanes import HIGH
from app.keys import Keys
from app.models import Alert

_encoder = msgspec.json.Encoder()

_RELEASE = files("app.engine").joinpath("followups.lua").read_text()


class FollowUps:
    """Schedule, cancel and release follow-ups."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._release = redis.register_script(_RELEASE)

    async def schedule(self, key: str, playbook: str, alert: Alert, delay_s: float) -> dict[str, Any]:
        """Run `playbook` for `alert` in `delay_s` seconds (no-op if `key` is already scheduled)."""
        (now_s, now_us) = await self.redis.time()
        due_ms = int(now_s * 1000 + now_us // 1000 + delay_s * 1000)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            self.keys.followup(key),
            mapping={
                "playbook": playbook,
                "alert": _encoder.encode(alert).decode(),
                "fingerprint": alert.fingerprint,
            },
        )
        pipe.expire(self.keys.followup(key), int(delay_s) + 86400)
        pipe.zadd(self.keys.followups, {key: due_ms}, nx=True)
        pipe.sadd(self.keys.followups_of(alert.fingerprint), key)
        await pipe.execute()
        return {"due_at_ms": due_ms}

    async def cancel(self, fingerprint: str) -> int:
        """Cancel every follow-up of one alert; return how many were pending."""
        keys: Any = await self.redis.smembers(self.keys.followups_of(fingerprint))
        if not keys:
            return 0
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(self.keys.followups, *keys)
        pipe.delete(*(self.keys.followup(k) for k in keys), self.keys.followups_of(fingerprint))
        removed, _ = await pipe.execute()
        return int(removed)

    async def release_due(self, limit: int = 100) -> int:
        """Move due follow-ups into the work queue; return how many."""
        moved = await self._release(
            keys=[
                self.keys.followups,
                self.keys.lane(HIGH),
                self.keys.followup(""),
                self.keys.followups_of(""),
            ],
            args=[limit, *queue_entry.SCRIPT_FIELDS[:4]],
        )
        return int(moved)
