"""Auto-pipelining: concurrent callers share a round trip, each gets its own replies and errors."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from app.coalesce import CoalescedScript, Coalescer


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
