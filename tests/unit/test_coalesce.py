"""Auto-pipelining: concurrent callers share a round trip, each gets its own replies and errors;
urgent callers do not wait for the batch in flight."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from app.coalesce import URGENT, CoalescedScript, Coalescer


async def test_each_caller_gets_its_own_replies_in_order(aredis: Redis, ns: str) -> None:
    coalescer = Coalescer(aredis, transaction=False)

    def caller(i: int):  # type: ignore[no-untyped-def]
        def add(pipe: Pipeline) -> int:
            pipe.set(f"{ns}k{i}", i)
            pipe.get(f"{ns}k{i}")
            return 2

        return coalescer.run(add)

    replies = await asyncio.gather(*(caller(i) for i in range(50)))
    assert replies == [[True, str(i)] for i in range(50)]


async def test_a_failing_command_fails_only_its_caller(aredis: Redis, ns: str) -> None:
    coalescer = Coalescer(aredis, transaction=False)
    await aredis.set(f"{ns}text", "abc")

    def bad(pipe: Pipeline) -> int:
        pipe.incr(f"{ns}text")  # not an integer
        return 1

    def good(pipe: Pipeline) -> int:
        pipe.incr(f"{ns}n")
        return 1

    results = await asyncio.gather(coalescer.run(bad), coalescer.run(good), return_exceptions=True)
    assert isinstance(results[0], ResponseError) and results[1] == [1]


async def test_a_builder_that_raises_fails_the_batch_not_the_coalescer(aredis: Redis, ns: str) -> None:
    coalescer = Coalescer(aredis, transaction=True)

    def broken(pipe: Pipeline) -> int:
        raise RuntimeError("bad builder")

    with pytest.raises(RuntimeError, match="bad builder"):
        await coalescer.run(broken)

    def fine(pipe: Pipeline) -> int:
        pipe.incr(f"{ns}n")
        return 1

    assert await coalescer.run(fine) == [1]


async def test_a_script_runs_again_after_redis_lost_its_script_cache(aredis: Redis, ns: str) -> None:
    script = CoalescedScript(aredis, "return redis.call('INCR', KEYS[1]) + tonumber(ARGV[1])")
    key = f"{ns}counter"
    assert await asyncio.gather(*(script([key], [10]) for _ in range(3))) == [11, 12, 13]
    await aredis.script_flush()  # a restart without persistence, or SCRIPT FLUSH
    assert await script([key], [0]) == 4


async def test_an_urgent_caller_does_not_wait_for_the_batch_in_flight(aredis: Redis, ns: str) -> None:
    coalescer = Coalescer(aredis, transaction=False)

    def stuck(pipe: Pipeline) -> int:
        pipe.blpop([f"{ns}release"], timeout=30)  # in flight until the test pushes
        return 1

    def ping(pipe: Pipeline) -> int:
        pipe.incr(f"{ns}n")
        return 1

    async def urgent() -> list[object]:
        URGENT.set(True)  # this task's context only
        return await coalescer.run(ping)

    in_flight = asyncio.create_task(coalescer.run(stuck))
    while not coalescer._task or coalescer._waiting:  # the BLPOP batch has gone out
        await asyncio.sleep(0)
    queued = asyncio.create_task(coalescer.run(ping))
    assert await urgent() == [1]  # answered while the batch holding the BLPOP waits
    assert not queued.done() and len(coalescer._waiting) == 1  # an ordinary caller waits its turn
    await aredis.lpush(f"{ns}release", "go")
    assert await in_flight == [(f"{ns}release", "go")] and await queued == [2]


async def test_an_urgent_callers_error_is_raised(aredis: Redis, ns: str) -> None:
    coalescer = Coalescer(aredis, transaction=False)
    await aredis.set(f"{ns}text", "abc")

    def bad(pipe: Pipeline) -> int:
        pipe.incr(f"{ns}text")
        return 1

    token = URGENT.set(True)
    try:
        with pytest.raises(ResponseError):
            await coalescer.run(bad)
    finally:
        URGENT.reset(token)
