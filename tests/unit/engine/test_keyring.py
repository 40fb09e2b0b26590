"""The service's signing secret: configured or shared through Redis, purpose keys distinct."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from app.engine.keyring import Keyring, KeyringSource
from app.errors import ConfigError


def test_purpose_keys_differ_and_sign_deterministically() -> None:
    ring = Keyring(b"s" * 32)
    assert ring.key("session") != ring.key("csrf")
    assert ring.sign("csrf", b"data") == ring.sign("csrf", b"data")
    assert ring.sign("csrf", b"data") != Keyring(b"t" * 32).sign("csrf", b"data")


def test_a_short_configured_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        KeyringSource(None, "k", "short")  # type: ignore[arg-type]


async def test_replicas_share_the_first_stored_secret(aredis: Redis, ns: str) -> None:
    first = await KeyringSource(aredis, f"{ns}session-secret").get()
    second = await KeyringSource(aredis, f"{ns}session-secret").get()
    assert first == second
    assert first.secret.decode() == await aredis.get(f"{ns}session-secret")


async def test_a_configured_secret_wins_and_touches_no_redis(aredis: Redis, ns: str) -> None:
    ring = await KeyringSource(aredis, f"{ns}session-secret", "c" * 32).get()
    assert ring.secret == b"c" * 32
    assert not await aredis.exists(f"{ns}session-secret")
