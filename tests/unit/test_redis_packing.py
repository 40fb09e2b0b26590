"""The hiredis-packing connections send the very bytes redis-py's Python packer does."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from app.connection import connect
from app.redis_packing import HiredisConnection
from app.settings import Settings

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
