"""Command packing in C: redis-py's asyncio connections build every command's RESP bytes in
Python (a fifth of a busy replica's CPU in the drain profile), while its sync client already
packs with hiredis. These connection classes pack with hiredis the same way the sync client
does (`HiredisRespSerializer`): same bytes, `DataError` for an unencodable argument.
Redis Cluster and `memory://` keep redis-py's own packer.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.asyncio.sentinel import SentinelManagedConnection
from redis.connection import HiredisRespSerializer

_serializer = HiredisRespSerializer()


class _HiredisPacking:
    """Packs each command with hiredis (the rest of the connection is redis-py's)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command."""
        packed: list[bytes] = _serializer.pack(*args)
        return packed


class HiredisConnection(_HiredisPacking, Connection):
    """A TCP connection packing commands with hiredis."""


class HiredisSSLConnection(_HiredisPacking, SSLConnection):
    """A TLS connection packing commands with hiredis."""


class HiredisUnixConnection(_HiredisPacking, UnixDomainSocketConnection):
    """A Unix-socket connection packing commands with hiredis."""


class HiredisSentinelConnection(_HiredisPacking, SentinelManagedConnection):
    """A connection to the primary Sentinel names, packing commands with hiredis."""


BY_SCHEME: dict[str, type[AbstractConnection]] = {
    "redis": HiredisConnection,
    "rediss": HiredisSSLConnection,
    "unix": HiredisUnixConnection,
}
