"""Unit-test fixtures: a Redis client for one module's own tests, either the embedded one
(`memory://`, fakeredis with Lua, built by app/connection.py) or the machine's real Redis,
always under the test's private namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from app.actions import outside
from app.actions.outside import Adapters
from app.connection import connect
from app.keys import Keys
from app.models import Alert
from app.settings import Settings
from tests.conftest import REDIS_URL

BACKENDS = ("memory", "redis")


def embedded_redis() -> Redis:
    """A client of the in-process Redis that `AUTONOMIC_REDIS_URL=memory://` runs on."""
    return connect(Settings(redis_url="memory://")).commands


@pytest.fixture(params=BACKENDS)
async def store_redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """The same test against `memory://` and the real Redis on 127.0.0.1:6379."""
    client = (
        embedded_redis() if request.param == "memory" else Redis.from_url(REDIS_URL, decode_responses=True)
    )
    yield client
    await client.aclose()


def fake_settings(outside_env: dict[str, str], ns: str, **overrides: Any) -> Settings:
    """Settings pointing every adapter at its local fake (tests/support), on this namespace."""
    values: dict[str, Any] = {k.removeprefix("AUTONOMIC_").lower(): v for k, v in outside_env.items()}
    return Settings(**{**values, "redis_namespace": ns, **overrides})


@pytest.fixture
async def adapters(outside_env: dict[str, str], ns: str, aredis: Redis) -> AsyncIterator[Adapters]:
    """Every adapter built as the runtime builds them, each talking to its local fake."""
    built = await outside.build(fake_settings(outside_env, ns), aredis)
    yield built
    await built.close()


@pytest.fixture
def keys(ns: str) -> Keys:
    return Keys(ns)


def make_alert(
    name: str = "HighLatency",
    status: str = "firing",
    *,
    fingerprint: str = "fp1",
    starts_at: str = "2026-11-26T10:00:00.123Z",
    **labels: str,
) -> Alert:
    """An alert as a playbook sees it."""
    extra: dict[str, Any] = {"annotations": {"description": f"{name} test"}}
    return Alert(
        status=status,  # type: ignore[arg-type]
        labels={"alertname": name, **labels},
        starts_at=starts_at,
        fingerprint=fingerprint,
        **extra,
    )
