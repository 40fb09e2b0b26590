"""Tombstones: the mark that one alert episode resolved (`Keys.resolved`).

Dispatch writes it when a resolved notification arrives, for as long as repeats of the
notification are deduplicated; a flag lease for the episode is then refused (flags.lua
reads the key), a follow-up of the episode is skipped, and the reconciler's own resolve
leaves a distinct value so that only a re-fire of that very episode clears it.
"""

from __future__ import annotations

from redis.asyncio import Redis

from app.engine.firing import RECONCILED_TOMBSTONE
from app.keys import Keys
from app.models import Alert


class Tombstones:
    """Marks and checks resolved episodes."""

    def __init__(self, redis: Redis, keys: Keys, *, ttl_s: float) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_s = max(60, int(ttl_s))

    def key(self, alert: Alert) -> str:
        """The tombstone key of the alert's episode (flags.lua checks it before a lease)."""
        return self.keys.resolved(alert.fingerprint, alert.episode)

    async def mark(self, alert: Alert, *, reconciled: bool = False) -> None:
        """Record that the alert's episode resolved (by the reconciler, if `reconciled`)."""
        await self.redis.set(self.key(alert), RECONCILED_TOMBSTONE if reconciled else "1", ex=self.ttl_s)

    async def exists(self, alert: Alert) -> bool:
        """True if the alert's episode has resolved."""
        return bool(await self.redis.exists(self.key(alert)))
