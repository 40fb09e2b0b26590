"""Unit-test fixtures: a Redis client for one module's own tests, either the embedded one
(`memory://`, fakeredis with Lua, built by app/connection.py) or the machine's real Redis,
always under the test's private namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

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
