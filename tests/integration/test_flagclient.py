"""The application-side flag client and OpenFeature provider against real Redis."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
import redis
import redis.asyncio as aioredis
from openfeature import api
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from app.actions.flags import FlagStore
from app.flagclient import AsyncFlagClient, FlagClient
from app.flagclient.openfeature import AutonomicProvider
from tests.conftest import REDIS_URL
from tests.support.procs import RedisServer, wait_for


def lease(flag_prefix: str, ns: str, name: str, value: str) -> None:
    """Set a flag the way Autonomic does, from synchronous test code."""

    async def run() -> None:
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        store = FlagStore(client, prefix=flag_prefix, namespace=ns, grace_s=60)
        await store.set(name, value, ttl_s=60, holder="alert:test")
        await client.aclose()

    asyncio.run(run())


def test_importing_the_client_does_not_load_the_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, app.flagclient, app.flagclient.openfeature;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('litestar', 'uvicorn', 'app.web')"
        " or m.startswith(('app.web', 'app.engine'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_typed_getters(sync_redis: redis.Redis, flag_prefix: str) -> None:
    sync_redis.set(flag_prefix + "llm.model_tier", "economy")
    sync_redis.set(flag_prefix + "ratelimit.factor", "0.5")
    sync_redis.set(flag_prefix + "fallback.enabled", "true")
    sync_redis.set(flag_prefix + "retry.attempts", "4")
    with FlagClient.from_url(REDIS_URL, prefix=flag_prefix) as flags:
        assert flags.get_str("llm.model_tier", "standard") == "economy"
        assert flags.get_float("ratelimit.factor", 1.0) == 0.5
        assert flags.get_bool("fallback.enabled", False) is True
        assert flags.get_int("retry.attempts", 2) == 4
        assert flags.get_str("cache.mode", "normal") == "normal"
        assert flags.get_int("llm.model_tier", 7) == 7  # mistyped → default


def test_a_change_reaches_a_subscribed_client(flag_prefix: str, ns: str) -> None:
    # A cache TTL of an hour: only the change message can explain a fresh value.
    with FlagClient.from_url(REDIS_URL, prefix=flag_prefix, cache_ttl=3600) as flags:
        wait_for(lambda: flags.live, what="subscription")
        assert flags.get_str("llm.model_tier", "standard") == "standard"  # now cached as absent
        seen: list[tuple[str, str | None]] = []
        flags.on_change(lambda name, value: seen.append((name, value)))
        lease(flag_prefix, ns, "llm.model_tier", "economy")
        wait_for(lambda: flags.get_str("llm.model_tier", "standard") == "economy", timeout=10, what="change")
        assert flags.resolve("llm.model_tier").source == "cache"
        assert seen == [("llm.model_tier", "economy")]


def test_redis_outage_serves_last_known_values_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    private = RedisServer().start()
    try:
        direct = redis.Redis.from_url(private.url, decode_responses=True)
        direct.set("flags:cache.mode", "aggressive")
        caplog.set_level(logging.WARNING, logger="autonomic.flagclient")
        flags = FlagClient.from_url(private.url, cache_ttl=0.0, poll_interval=0.0, retry_after=0.05)
        wait_for(lambda: flags.live, what="subscription")
        assert flags.get_str("cache.mode", "normal") == "aggressive"

        private.stop()
        for _ in range(20):  # never raises, never blocks long
            started = time.monotonic()
            assert flags.get_str("cache.mode", "normal") == "aggressive"
            assert flags.get_str("unknown.flag", "dflt") == "dflt"
            assert time.monotonic() - started < 1.0
        assert flags.resolve("cache.mode").source == "stale"
        wait_for(lambda: not flags.live, what="subscription marked down")
        unavailable = [r for r in caplog.records if "flags unavailable" in r.getMessage()]
        assert len(unavailable) == 1  # logged once, not per call

        private.start()
        direct = redis.Redis.from_url(private.url, decode_responses=True)
        direct.set("flags:cache.mode", "normal-again")
        wait_for(lambda: flags.get_str("cache.mode", "x") == "normal-again", what="fresh value after return")
        wait_for(lambda: flags.live, what="subscription back")
        flags.close()
    finally:
        private.stop()


async def test_async_client(aredis: aioredis.Redis, flag_prefix: str, ns: str) -> None:
    await aredis.set(flag_prefix + "ratelimit.factor", "0.25")
    async with AsyncFlagClient.from_url(REDIS_URL, prefix=flag_prefix, cache_ttl=3600) as flags:
        assert await flags.get_float("ratelimit.factor", 1.0) == 0.25
        assert await flags.get_bool("missing", True) is True
        deadline = time.monotonic() + 10
        while not flags.live:
            assert time.monotonic() < deadline, "subscription never became live"
            await asyncio.sleep(0.01)
        store = FlagStore(aredis, prefix=flag_prefix, namespace=ns, grace_s=60)
        await store.set("ratelimit.factor", "0.1", ttl_s=60, holder="alert:y")
        while await flags.get_float("ratelimit.factor", 1.0) != 0.1:
            assert time.monotonic() < deadline, "change never arrived"
            await asyncio.sleep(0.01)


@pytest.fixture
def provider(flag_prefix: str) -> AutonomicProvider:
    provider = AutonomicProvider(FlagClient.from_url(REDIS_URL, prefix=flag_prefix, cache_ttl=0.0))
    api.set_provider_and_wait(provider)
    yield provider
    api.shutdown()


def test_openfeature_resolves_every_type(
    provider: AutonomicProvider, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    for name, value in {
        "bool": "on",
        "str": "economy",
        "int": "3",
        "float": "0.5",
        "obj": '{"providers": ["a", "b"]}',
    }.items():
        sync_redis.set(flag_prefix + name, value)
    client = api.get_client()
    assert client.get_boolean_details("bool", False).value is True
    assert client.get_string_details("str", "x").value == "economy"
    assert client.get_integer_details("int", 1).value == 3
    assert client.get_float_details("float", 1.0).value == 0.5
    details = client.get_object_details("obj", {})
    assert details.value == {"providers": ["a", "b"]}
    assert details.reason == Reason.STATIC


def test_openfeature_missing_and_mistyped(
    provider: AutonomicProvider, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    client = api.get_client()
    missing = client.get_string_details("absent.flag", "standard")
    assert (missing.value, missing.reason, missing.error_code) == ("standard", Reason.DEFAULT, None)
    sync_redis.set(flag_prefix + "words", "not-a-number")
    for details in (
        client.get_integer_details("words", 7),
        client.get_float_details("words", 7.0),
        client.get_boolean_details("words", True),
        client.get_object_details("words", {"d": 1}),
    ):
        assert details.error_code == ErrorCode.TYPE_MISMATCH
        assert details.reason == Reason.ERROR
    assert client.get_integer_value("words", 7) == 7


def test_openfeature_emits_configuration_changed(
    provider: AutonomicProvider, flag_prefix: str, ns: str
) -> None:
    wait_for(lambda: provider.client.live, what="subscription")
    changed: list[list[str]] = []
    got = threading.Event()

    def handler(details: EventDetails) -> None:
        changed.append(list(details.flags_changed or []))
        got.set()

    api.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, handler)
    try:
        lease(flag_prefix, ns, "cache.mode", "aggressive")
        assert got.wait(10), "no configuration-changed event"
        assert changed[0] == ["cache.mode"]
    finally:
        api.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, handler)
