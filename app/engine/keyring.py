"""The service's own signing secret: `AUTONOMIC_SESSION_SECRET`, or a random one generated
once and kept in Redis (`SET NX`) so every replica signs and checks with the same key.

Never derived from a token: knowing or guessing a token says nothing about the key,
and a cookie cannot be used to test token guesses. Purpose keys (console sessions,
CSRF, the hashed cost label) are HMACs of the secret, so one never stands in for another.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from redis.asyncio import Redis

from app.errors import ConfigError

MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Keyring:
    """Keys derived from one secret."""

    secret: bytes

    def key(self, purpose: str) -> bytes:
        """The key for one purpose (`session`, `csrf`, `cost-user-label`)."""
        return hmac.new(self.secret, f"autonomic:{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, purpose: str, data: bytes) -> str:
        """Hex HMAC-SHA256 of `data` under the purpose key."""
        return hmac.new(self.key(purpose), data, hashlib.sha256).hexdigest()


@dataclass
class KeyringSource:
    """Loads the keyring on first use (Redis may be down at start-up) and keeps it."""

    redis: Redis
    redis_key: str
    configured: str | None = None
    _loaded: Keyring | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.configured is not None and len(self.configured) < MIN_SECRET_LENGTH:
            raise ConfigError(f"AUTONOMIC_SESSION_SECRET: must be at least {MIN_SECRET_LENGTH} characters")

    async def get(self) -> Keyring:
        """The keyring; raises the Redis error while the shared secret cannot be read."""
        if self._loaded is not None:
            return self._loaded
        async with self._lock:
            if self._loaded is None:
                if self.configured is not None:
                    secret = self.configured
                else:
                    # The first replica to get here stores its random secret; everyone reads the winner.
                    await self.redis.set(self.redis_key, secrets.token_hex(32), nx=True)
                    stored = await self.redis.get(self.redis_key)
                    if not stored:
                        raise RuntimeError("the session secret vanished from Redis")
                    secret = str(stored)
                self._loaded = Keyring(secret.encode())
        return self._loaded
