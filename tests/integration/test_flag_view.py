"""FlagView (what OFREP answers from) against real Redis: changes, staleness bound, outages, bounds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from app.actions.flag_view import FlagsUnavailable, FlagView
from app.actions.flags import FlagStore
from tests.conftest import REDIS_URL
from tests.support.procs import RedisServer


async def until(check: Callable[[], Awaitable[object]], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def view_for(client: aioredis.Redis, prefix: str, ns: str, **kwargs: float) -> FlagView:
    return FlagView(client, prefix=prefix, index_key=f"{ns}leases", tracked=["cache.mode"], **kwargs)  # type: ignore[arg-type]


async def test_changes_arrive_by_message_without_a_read_per_evaluation(flag_prefix: str, ns: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    store = FlagStore(client, prefix=flag_prefix, namespace=ns, grace_s=60)
    await store.set("llm.model_tier", "economy", ttl_s=60, holder="alert:before")  # present before start
    view = view_for(client, flag_prefix, ns, cache_ttl=3600)
    await view.start()
    try:
        await until(lambda: asyncio.sleep(0, view.live), "subscription")
        assert [e.name for e in view.active()] == ["llm.model_tier"]  # loaded from the lease index
        version = view.version
        await store.set("cache.mode", "aggressive", ttl_s=60, holder="alert:x")
        await until(lambda: asyncio.sleep(0, view.lookup("cache.mode")[1] is not None), "change message")
        assert view.version > version
        await until(lambda: asyncio.sleep(0, view.lookup("cache.mode")[1].holders == 1), "holders")  # type: ignore[union-attr]
        await store.set("cache.mode", "aggressive", ttl_s=120, holder="alert:y")  # same value: no message
        entry = await view.get("cache.mode")
        assert entry is not None and entry.value == "aggressive"
        await store.release_holder("alert:x")
        await store.release_holder("alert:y")
        await until(lambda: asyncio.sleep(0, view.lookup("cache.mode") == (True, None)), "release")
        # Evaluations of known flags are answered from memory: no command reaches Redis.
        before = (await client.info("stats"))["total_commands_processed"]
        for _ in range(200):
            await view.get("cache.mode")
            await view.get("llm.model_tier")
        after = (await client.info("stats"))["total_commands_processed"]
        assert after - before < 20  # the two INFO calls plus any background refresh, not 400 reads
    finally:
        await view.stop()
        await client.aclose()


async def test_without_subscription_it_polls_within_the_poll_interval() -> None:
    private = RedisServer().start()
    client = aioredis.Redis.from_url(private.url, decode_responses=True)
    view = FlagView(client, prefix="flags:", index_key="ns:leases", tracked=["cache.mode"], poll_interval=0.2)
    try:
        await view.start()
        await until(lambda: asyncio.sleep(0, view.live), "subscription")
        # Keep the subscription down while Redis still answers: forbid SUBSCRIBE, drop the subscriber.
        await client.execute_command("ACL", "SETUSER", "default", "-subscribe")
        await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await until(lambda: asyncio.sleep(0, not view.live), "subscription dropped")
        await client.set("flags:cache.mode", "aggressive")  # written by hand: no message
        await until(
            lambda: asyncio.sleep(0, view.lookup("cache.mode")[1] is not None), "poll picked it up", 5
        )
    finally:
        await view.stop()
        await client.aclose()
        private.stop()


async def test_redis_outage_serves_what_it_knew() -> None:
    private = RedisServer().start()
    client = aioredis.Redis.from_url(private.url, decode_responses=True, socket_timeout=0.5)
    await client.set("flags:cache.mode", "aggressive")
    view = FlagView(client, prefix="flags:", index_key="ns:leases", tracked=["cache.mode"], retry_after=0.1)
    try:
        await view.start()
        assert view.loaded
        private.stop()
        for _ in range(5):
            entry = await view.get("cache.mode")
            assert entry is not None and entry.value == "aggressive"
        with pytest.raises(FlagsUnavailable):
            await view.get("never.seen")
        private.start()

        async def answered() -> bool:
            try:
                return await view.get("never.seen") is None
            except FlagsUnavailable:
                return False

        await until(answered, "redis back")
    finally:
        await view.stop()
        await client.aclose()
        private.stop()


async def test_unknown_names_are_remembered_in_a_bounded_lru(flag_prefix: str, ns: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    view = view_for(client, flag_prefix, ns, max_absent=5)
    try:
        for i in range(50):
            assert await view.get(f"ratelimit.user.u{i}") is None
        assert view.lookup("ratelimit.user.u49") == (True, None)
        assert view.lookup("ratelimit.user.u0") == (False, None)  # evicted: will be read again
    finally:
        await client.aclose()
