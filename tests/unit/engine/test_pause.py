"""The kill switch: who paused and until when, the raw flag, the change message."""

from __future__ import annotations

import time

import msgspec
import pytest
from redis.asyncio import Redis

from app.actions.flags import PAUSED_FLAG, FlagStore
from app.engine.pause import PauseStore
from app.keys import Keys


@pytest.fixture
def pause(aredis: Redis, ns: str) -> PauseStore:
    return PauseStore(aredis, Keys(ns), FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0))


async def test_pause_for_a_while_then_resume(pause: PauseStore, aredis: Redis, ns: str) -> None:
    assert not (await pause.get()).paused
    await pause.pause("deploy", "alice", for_s=600)
    state = await pause.get()
    assert (state.paused, state.reason, state.by, state.source) == (True, "deploy", "alice", "api")
    assert state.until is not None and time.time() + 590 < state.until <= time.time() + 600
    assert 0 < await aredis.pttl(f"{ns}flags:{PAUSED_FLAG}") <= 600_000
    before = await pause.resume("bob")
    assert before.by == "alice" and not (await pause.get()).paused
    assert not await aredis.exists(Keys(ns).pause)


async def test_a_raw_flag_counts_as_paused(pause: PauseStore, aredis: Redis, ns: str) -> None:
    await aredis.set(f"{ns}flags:{PAUSED_FLAG}", "true")
    state = await pause.get()
    assert (state.paused, state.source, state.until) == (True, "flag", None)
    await aredis.set(f"{ns}flags:{PAUSED_FLAG}", "false")
    assert not (await pause.get()).paused


async def test_changes_are_published_like_flag_changes(pause: PauseStore, aredis: Redis, ns: str) -> None:
    pubsub = aredis.pubsub()
    await pubsub.subscribe(f"{ns}flags:changes")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    await pause.pause("x", "alice")
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    await pubsub.aclose()
    assert message is not None
    change = msgspec.json.decode(message["data"])
    assert (change["flag"], change["value"], change["reason"]) == (PAUSED_FLAG, "true", "paused by alice")
