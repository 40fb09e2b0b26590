"""Cooldown slots: one per (playbook, alert labels), held by the execution that took it.

A playbook declared with `cooldown` takes the slot before its events run; while another
execution holds it, the events of a new run are skipped (its flag leases still apply).
The slot is a Redis key with the cooldown as TTL (`Keys.cooldown`).
"""

from __future__ import annotations

from redis.asyncio import Redis

from app.keys import Keys
from app.models import Alert, labels_fingerprint


class Cooldowns:
    """Takes and checks cooldown slots."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def _key(self, playbook: str, alert: Alert) -> str:
        return self.keys.cooldown(playbook, labels_fingerprint(alert.labels))

    async def take(self, playbook: str, alert: Alert, holder: str, seconds: float) -> bool:
        """Take the slot for `seconds` as `holder`; True if another holder has it (blocked).
        A holder's own slot from an earlier attempt does not block it."""
        key = self._key(playbook, alert)
        if await self.redis.set(key, holder, nx=True, px=int(seconds * 1000)):
            return False
        return await self.redis.get(key) != holder

    async def active(self, playbook: str, alert: Alert) -> bool:
        """True while some execution holds the slot (simulation: nothing is taken)."""
        return bool(await self.redis.exists(self._key(playbook, alert)))
