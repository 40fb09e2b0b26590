"""Command packing in C: redis-py's asyncio connections build every command's RESP bytes in
Python (a fifth of a busy replica's CPU in the drain profile), while its sync client already
packs with hiredis. These connection classes pack with hiredis the same way the sync client
does (`HiredisRespSerializer`): same bytes, `DataError` for an unencodable argument.
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


class HiredisConnection(Connection):
    """A TCP connection packing commands with hiredis."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command."""
        packed: list[bytes] = _serializer.pack(*args)
        return packed


class HiredisSSLConnection(SSLConnection):
    """A TLS connection packing commands with hiredis."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command."""
        packed: list[bytes] = _serializer.pack(*args)
        return packed


class HiredisUnixConnection(UnixDomainSocketConnection):
    """A Unix-socket connection packing commands with hiredis."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command."""
        packed: list[bytes] = _serializer.pack(*args)
        return packed


class HiredisSentinelConnection(SentinelManagedConnection):
    """A connection to the primary Sentinel names, packing commands with hiredis."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command."""
        packed: list[bytes] = _serializer.pack(*args)
        return packed


BY_SCHEME: dict[str, type[AbstractConnection]] = {
    "redis": HiredisConnection,
    "rediss": HiredisSSLConnection,
    "unix": HiredisUnixConnection,
}
