"""FlagView's ordering rule: a Redis read that raced a newer change message must not win."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.actions.flag_view import FlagEntry, FlagView


class SlowPipeline:
    """Answers a GET + HGETALL pipeline with a state read before `release` is set."""

    def __init__(self, release: asyncio.Event, reply: list[Any]) -> None:
        self.release, self.reply = release, reply

    def get(self, key: str) -> None:
        pass

    def hgetall(self, key: str) -> None:
        pass

    async def execute(self) -> list[Any]:
        await self.release.wait()
        return self.reply


class SlowRedis:
    def __init__(self, reply: list[Any]) -> None:
        self.release = asyncio.Event()
        self.reply = reply

    def pipeline(self, transaction: bool = False) -> SlowPipeline:
        return SlowPipeline(self.release, self.reply)


async def test_a_read_older_than_a_change_message_is_discarded() -> None:
    redis = SlowRedis(["standard", {}])  # what Redis held when the read ran
    view = FlagView(redis, prefix="flags:", index_key="ns:leases")  # type: ignore[arg-type]
    reading = asyncio.create_task(view.get("llm.model_tier"))
    await asyncio.sleep(0)
    message = {"flag": "llm.model_tier", "value": "economy", "reason": "set by alert:a", "at": 1}
    view.changed(json.dumps(message))  # arrives while the read is in flight
    redis.release.set()
    entry = await reading
    assert entry is not None and entry.value == "economy"
    assert (entry.holders, entry.holder) == (1, "alert:a")
    assert view.lookup("llm.model_tier")[1] == entry


async def test_malformed_messages_are_ignored() -> None:
    view = FlagView(SlowRedis([]), prefix="flags:", index_key="ns:leases")  # type: ignore[arg-type]
    for data in ("{", '{"flag": 1}', '{"value": "x"}', '{"flag": "a", "value": 3}'):
        view.changed(data)
    assert view.active() == [] and view.version == 0


async def test_stop_does_not_hang_on_a_task_that_ignores_cancellation(monkeypatch: Any) -> None:
    from app.actions import flag_view

    monkeypatch.setattr(flag_view, "STOP_GRACE", 0.05)
    view = FlagView(SlowRedis([None, {}]), prefix="flags:", index_key="ns:leases")  # type: ignore[arg-type]
    release = asyncio.Event()

    async def stubborn() -> None:  # like a client call that swallows its cancellation
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)  # let it start, so the cancellation reaches its `except`
    view._tasks = [task]
    await view.stop()  # returns after the grace instead of waiting forever
    assert view._tasks == [] and not task.done()
    release.set()
    await task


async def test_a_message_with_the_lease_figures_gives_the_whole_entry_without_a_read() -> None:
    redis = SlowRedis([])  # a read would hang: release is never set
    view = FlagView(redis, prefix="flags:", index_key="ns:leases")  # type: ignore[arg-type]
    held = {"flag": "cache.mode", "value": "aggressive", "reason": "released by alert:a", "at": 5}
    view.changed(json.dumps({**held, "held": 2, "holder": "alert:b", "exp": 9000}))
    fresh, entry = view.lookup("cache.mode")
    assert fresh and entry is not None
    assert entry == FlagEntry("cache.mode", "aggressive", holders=2, holder="alert:b", expires_at_ms=9000)
    assert await asyncio.wait_for(view.get("cache.mode"), 1) == entry  # from memory
    view.changed(json.dumps({**held, "value": "standard", "held": 0, "holder": None, "exp": None}))
    assert view.lookup("cache.mode")[1] == FlagEntry("cache.mode", "standard")  # a baseline


class CountingRedis:
    """Holds `n` flags under lease; records the size of every pipelined read."""

    def __init__(self, n: int) -> None:
        self.names = [f"storm.{i}" for i in range(n)]
        self.reads: list[int] = []

    async def zrange(self, key: str, start: int, end: int) -> list[str]:
        return self.names

    def pipeline(self, transaction: bool = False) -> Any:
        redis = self

        class Pipe:
            commands = 0

            def get(self, key: str) -> None:
                self.commands += 1

            def hgetall(self, key: str) -> None:
                self.commands += 1

            async def execute(self) -> list[Any]:
                redis.reads.append(self.commands // 2)
                return ["on", {}] * (self.commands // 2)

        return Pipe()


async def test_the_periodic_re_read_is_paced_in_small_batches(monkeypatch: Any) -> None:
    from app.actions import flag_view

    monkeypatch.setattr(flag_view, "REFRESH_RATE", 1e9)  # no waiting in a unit test
    redis = CountingRedis(250)
    view = FlagView(redis, prefix="flags:", index_key="ns:leases")  # type: ignore[arg-type]
    await view.refresh()  # the first load (and after a resubscribe): at once
    assert redis.reads == [250]
    await view.refresh(paced=True)  # just read: none is due again yet
    assert redis.reads == [250]
    view.cache_ttl = view.poll_interval = 0  # every entry due: re-read a batch at a time
    await view.refresh(paced=True)
    assert redis.reads[1:] == [100, 100, 50]
    assert len(view.active()) == 250


async def test_a_resubscribe_during_a_paced_re_read_still_gets_its_whole_re_read(monkeypatch: Any) -> None:
    from app.actions import flag_view

    monkeypatch.setattr(flag_view, "REFRESH_RATE", 1e9)
    redis = CountingRedis(250)
    view = FlagView(redis, prefix="flags:", index_key="ns:leases")  # type: ignore[arg-type]
    view.cache_ttl = view.poll_interval = 0
    reading = asyncio.create_task(view.refresh(paced=True))
    while not redis.reads:
        await asyncio.sleep(0)
    view._generation += 1  # what a (re)subscribe does: messages may have been missed
    view._refreshed_at = 0.0
    await reading
    assert view._refreshed_at == 0.0  # so the next pass re-reads everything at once
