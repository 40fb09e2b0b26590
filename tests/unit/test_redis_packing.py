"""Our connections send the very bytes redis-py's Python packer does, and under a batch
deadline read a pipeline's replies without a timeout each, yet never hang or desync."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio.connection as redis_connection
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.coalesce import Coalescer
from app.connection import Clients, connect
from app.redis_packing import HiredisConnection, batch_deadline
from app.settings import Settings
from tests.conftest import CLUSTER, REDIS_URL

on_plain_redis = pytest.mark.skipif(
    CLUSTER, reason="these connections are for redis://; a cluster keeps redis-py's"
)

COMMANDS: list[tuple[Any, ...]] = [
    ("SET", "key", "value", "PX", 1500),
    ("XINFO GROUPS", "ns:alerts"),  # a two-word command name is split, as redis-py does
    ("EVALSHA", "ab" * 20, 2, "k1", "k2", "é✓", b"\x00\xff", 0.1, 1e20, 10**20, -3),
    ("HSET", "h", "f", memoryview(b"view"), "g", bytearray(b"arr")),
    ("PING",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: str(args[0]))
def test_packs_the_same_bytes_as_redis_py(args: tuple[Any, ...]) -> None:
    python = Connection().pack_command(*args)
    packed = HiredisConnection().pack_command(*args)
    assert b"".join(bytes(part) for part in packed) == b"".join(bytes(part) for part in python)


@pytest.mark.parametrize("bad", [None, True, object()])
def test_refuses_what_redis_py_refuses(bad: object) -> None:
    with pytest.raises(DataError):
        Connection().pack_command("SET", "k", bad)  # type: ignore[arg-type]
    with pytest.raises(DataError):
        HiredisConnection().pack_command("SET", "k", bad)


@pytest.mark.parametrize(
    ("url", "cls"),
    [
        ("redis://127.0.0.1:6379/0", "HiredisConnection"),
        ("rediss://127.0.0.1:6380/0", "HiredisSSLConnection"),
        ("unix:///run/redis.sock", "HiredisUnixConnection"),
        ("redis+sentinel://127.0.0.1:26379/mymaster", "HiredisSentinelConnection"),
    ],
)
def test_connect_uses_them(url: str, cls: str) -> None:
    clients = connect(Settings(redis_url=url, webhook_token="w" * 24, operator_token="o" * 24))
    for client in (clients.commands, clients.blocking):
        assert client.connection_pool.connection_class.__name__ == cls


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[float], Redis]]:
    """Commands clients on the test Redis with a given socket timeout, closed afterwards."""
    made: list[Clients] = []

    def make(timeout: float) -> Redis:
        settings = Settings(
            redis_url=REDIS_URL, redis_timeout=timeout, webhook_token="w" * 24, operator_token="o" * 24
        )
        made.append(connect(settings))
        return made[-1].commands

    yield make
    for clients in made:
        await clients.close()


def _stall(key: str) -> Any:
    """A command Redis answers only when `key` gets an element: a reply that never comes."""

    def add(pipe: Any) -> int:
        pipe.blpop([key], 0)
        return 1

    return add


@on_plain_redis
async def test_a_batch_under_a_deadline_enters_no_timeout_per_reply(
    monkeypatch: pytest.MonkeyPatch, client_for: Callable[[float], Redis]
) -> None:
    """The saving itself, and the guard on redis-py's read_response semantics it relies on
    (`math.inf` for "no timeout"; pyproject pins redis-py 8)."""
    entered = 0
    real = redis_connection.async_timeout

    def counting(delay: float | None) -> Any:
        nonlocal entered
        entered += 1
        return real(delay)

    monkeypatch.setattr(redis_connection, "async_timeout", counting)
    client = client_for(2.0)
    await client.ping()  # connected before counting

    async def ten_pings() -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for _ in range(10):
            pipe.ping()
        return await pipe.execute()

    entered = 0
    async with batch_deadline(2.0):
        assert await ten_pings() == [True] * 10
        assert entered == 0
        # A task started inside a batch is not bounded by it: it keeps its own timeout.
        assert await asyncio.create_task(client.ping()) is True
        assert entered == 1
    assert await ten_pings() == [True] * 10  # outside a batch: redis-py's timeout per reply
    assert entered == 11


@on_plain_redis
async def test_a_stalled_batch_fails_at_its_deadline_and_drops_the_connection(
    ns: str, client_for: Callable[[float], Redis]
) -> None:
    client = client_for(3600.0)  # per reply, the stalled read would wait an hour
    pool = client.connection_pool
    connection = await pool.get_connection()
    await pool.release(connection)
    pipe = client.pipeline(transaction=False)
    pipe.ping()
    _stall(f"{ns}never")(pipe)
    with pytest.raises(RedisTimeoutError, match=r"did not answer a batch within 0\.05s"):
        async with batch_deadline(0.05):
            await pipe.execute()
    # Not back in the pool with the BLPOP's reply still to come: the next user reconnects.
    assert connection.is_connected is False
    assert await client.ping() is True


@on_plain_redis
async def test_coalesced_callers_see_the_timeout_of_a_stalled_batch(
    ns: str, client_for: Callable[[float], Redis]
) -> None:
    client = client_for(0.5)
    await client.ping()  # connected: the deadline is spent on the stalled reply alone
    coalescer = Coalescer(client, transaction=False)
    results = await asyncio.gather(
        *(coalescer.run(_stall(f"{ns}never")) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RedisTimeoutError) for r in results), results
