"""Console login throttling, kept in Redis so every replica counts the same failures.

Failed logins are counted per client address, and per name at that address, in a
fixed window; once either count reaches its limit, every login from that address
(or for that name from that address) — right or wrong — is refused until the window
ends. The name is counted per address so that nobody can lock a named operator out
by failing logins in their name from elsewhere. Counter keys hold a hash of the
address or name, never the presented token.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from app.keys import Keys

WINDOW_S = 300
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_NAME = 10


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


class LoginThrottle:
    """Counts failures; says how long a login must wait."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def _keys(self, address: str, name: str) -> tuple[str, str]:
        return (
            self.keys.login_failures("addr", _digest(address)),
            self.keys.login_failures("name", _digest(f"{name.lower()}\n{address}")),
        )

    async def wait(self, address: str, name: str) -> int:
        """Seconds until this address and name may try again (0: now)."""
        by_address, by_name = self._keys(address, name)
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(by_address)
        pipe.ttl(by_address)
        pipe.get(by_name)
        pipe.ttl(by_name)
        address_count, address_ttl, name_count, name_ttl = await pipe.execute()
        wait = 0
        if int(address_count or 0) >= MAX_FAILURES_PER_ADDRESS:
            wait = max(wait, int(address_ttl), 1)
        if int(name_count or 0) >= MAX_FAILURES_PER_NAME:
            wait = max(wait, int(name_ttl), 1)
        return wait

    async def failed(self, address: str, name: str) -> None:
        """Count one failed login for the address and the name."""
        pipe = self.redis.pipeline(transaction=True)
        for key in self._keys(address, name):
            pipe.set(key, 0, ex=WINDOW_S, nx=True)  # starts the window; INCR keeps its TTL
            pipe.incr(key)
        await pipe.execute()
