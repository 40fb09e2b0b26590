"""The application-side flag client and its OpenFeature provider against a real Redis."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
import redis
import redis.asyncio as aioredis
from conftest import REDIS_URL, PrivateRedis, publish_change, wait_for
from openfeature import api
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from autonomic_flags import AsyncFlagClient, FlagClient
from autonomic_flags.openfeature import AutonomicProvider


def lease(flag_prefix: str, name: str, value: str) -> None:
    """Change a flag the way Autonomic does (the server's contract test proves it does)."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    publish_change(client, flag_prefix, name, value)
    client.close()


def test_importing_the_client_does_not_load_the_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, autonomic_flags, autonomic_flags.openfeature;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('app', 'litestar', 'uvicorn', 'kubernetes')];"
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


def test_a_change_reaches_a_subscribed_client(flag_prefix: str) -> None:
    # A cache TTL of an hour: only the change message can explain a fresh value.
    with FlagClient.from_url(REDIS_URL, prefix=flag_prefix, cache_ttl=3600) as flags:
        wait_for(lambda: flags.live, what="subscription")
        assert flags.get_str("llm.model_tier", "standard") == "standard"  # now cached as absent
        seen: list[tuple[str, str | None]] = []
        flags.on_change(lambda name, value: seen.append((name, value)))
        lease(flag_prefix, "llm.model_tier", "economy")
        wait_for(lambda: flags.get_str("llm.model_tier", "standard") == "economy", timeout=10, what="change")
        assert flags.resolve("llm.model_tier").source == "cache"
        assert seen == [("llm.model_tier", "economy")]


def test_redis_outage_serves_last_known_values_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    private = PrivateRedis().start()
    try:
        direct = redis.Redis.from_url(private.url, decode_responses=True)
        direct.set("flags:cache.mode", "aggressive")
        caplog.set_level(logging.WARNING, logger="autonomic_flags")
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


async def test_async_client(flag_prefix: str) -> None:
    aredis = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    await aredis.set(flag_prefix + "ratelimit.factor", "0.25")
    async with AsyncFlagClient.from_url(REDIS_URL, prefix=flag_prefix, cache_ttl=3600) as flags:
        assert await flags.get_float("ratelimit.factor", 1.0) == 0.25
        assert await flags.get_bool("missing", True) is True
        deadline = time.monotonic() + 10
        while not flags.live:
            assert time.monotonic() < deadline, "subscription never became live"
            await asyncio.sleep(0.01)
        await asyncio.to_thread(lease, flag_prefix, "ratelimit.factor", "0.1")
        while await flags.get_float("ratelimit.factor", 1.0) != 0.1:
            assert time.monotonic() < deadline, "change never arrived"
            await asyncio.sleep(0.01)
    await aredis.aclose()


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


def test_openfeature_emits_configuration_changed(provider: AutonomicProvider, flag_prefix: str) -> None:
    wait_for(lambda: provider.client.live, what="subscription")
    changed: list[list[str]] = []
    got = threading.Event()

    def handler(details: EventDetails) -> None:
        changed.append(list(details.flags_changed or []))
        got.set()

    api.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, handler)
    try:
        lease(flag_prefix, "cache.mode", "aggressive")
        assert got.wait(10), "no configuration-changed event"
        assert changed[0] == ["cache.mode"]
    finally:
        api.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, handler)


def test_the_cache_is_a_bounded_lru(sync_redis: redis.Redis, flag_prefix: str) -> None:
    sync_redis.set(flag_prefix + "ratelimit.user.keep", "0.1")
    with FlagClient.from_url(REDIS_URL, prefix=flag_prefix, max_entries=50, subscribe=False) as flags:
        assert flags.get_float("ratelimit.user.keep", 1.0) == 0.1
        for i in range(500):  # one entry per user id, as a per-user rate limit reads them
            flags.get_float(f"ratelimit.user.u{i}", 1.0)
            flags.get_float("ratelimit.user.keep", 1.0)  # recently used: stays
        assert len(flags.state) == 50
        assert flags.resolve("ratelimit.user.keep").source == "cache"
        assert flags.resolve("ratelimit.user.u0").source == "redis"  # evicted long ago, read again


def test_the_default_cache_bound_is_ten_thousand() -> None:
    flags = FlagClient.from_url(REDIS_URL, subscribe=False)
    assert flags.state.max_entries == 10_000
    flags.close()


def test_memory_url_is_refused_with_a_pointer_to_ofrep() -> None:
    with pytest.raises(ValueError, match="OFREP"):
        FlagClient.from_url("memory://")
    with pytest.raises(ValueError, match="OFREP"):
        AsyncFlagClient.from_url("memory://")
