"""A replica's parts built in-process on the real Redis, under the test's namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app import matchers
from app.engine.runtime import Runtime
from app.plugins.registry import PlaybookSpec, Registry
from app.settings import Settings
from tests.conftest import REDIS_URL


def spec(
    name: str, fn: Callable[..., Any], match: str = 'alertname="HighLatency"', **options: Any
) -> PlaybookSpec:
    """A playbook spec as `@playbook` would register it."""
    return PlaybookSpec(
        name=name,
        fn=fn,
        match=match,
        matchers=matchers.parse(match) if match else (),
        source="test",
        **options,
    )


def settings_for(ns: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": REDIS_URL,
        "redis_namespace": ns,
        "flag_prefix": f"{ns}flags:",
        "retry_base_delay": 0.001,
        "retry_max_delay": 0.005,
        "playbook_timeout": 5.0,
        "playbook_entry_points": False,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def runtime_settings(ns: str) -> Settings:
    return settings_for(ns)


@pytest.fixture
async def runtime(runtime_settings: Settings, registry: Registry) -> AsyncIterator[Runtime]:
    """Built, not started: no workers, no scheduler, no adapters connected."""
    built = Runtime.build(runtime_settings, registry)
    yield built
    await built.clients.close()
