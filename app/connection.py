"""Redis clients from `AUTONOMIC_REDIS_URL`: `redis://`, `rediss://`, `unix://`,
`redis+sentinel://host:port[,host:port]/service[/db]`, or `memory://` for an
in-process Redis (fakeredis with Lua) that runs the same code paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff

from app.errors import ConfigError
from app.settings import Settings

# How long a blocking stream read waits before looping (milliseconds).
BLOCK_MS = 1000


@cache
def _memory_server() -> Any:
    import fakeredis

    return fakeredis.FakeServer()


def _memory_client() -> Redis:
    import fakeredis

    client: Redis = fakeredis.FakeAsyncRedis(server=_memory_server(), decode_responses=True)
    return client


def _sentinel_client(url: str, socket_timeout: float) -> Redis:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    password = unquote(netloc[0].split(":", 1)[-1]) if len(netloc) == 2 else None
    hosts = []
    for item in netloc[-1].split(","):
        host, _, port = item.rpartition(":")
        hosts.append((host or item, int(port) if host else 26379))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ConfigError(
            "redis+sentinel:// URL needs the service name: redis+sentinel://host:26379/mymaster"
        )
    db = int(path[1]) if len(path) > 1 else 0
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts,
        socket_timeout=socket_timeout,
        password=password,
        sentinel_kwargs={"password": password} if password else None,
    )
    client: Redis = sentinel.master_for(path[0], db=db, decode_responses=True, socket_timeout=socket_timeout)
    return client


@dataclass(frozen=True)
class Clients:
    """`commands` for ordinary calls (short timeout); `blocking` for blocking stream reads."""

    commands: Redis
    blocking: Redis
    embedded: bool

    async def close(self) -> None:
        """Close both connection pools."""
        await self.commands.aclose()
        if self.blocking is not self.commands:
            await self.blocking.aclose()


def connect(settings: Settings) -> Clients:
    """Build the clients for `settings.redis_url` (no I/O happens here)."""
    url = settings.redis_url
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        client = _memory_client()
        return Clients(client, client, embedded=True)
    timeout = settings.redis_timeout
    if scheme == "redis+sentinel":
        return Clients(
            _sentinel_client(url, timeout),
            _sentinel_client(url, timeout + BLOCK_MS / 1000),
            embedded=False,
        )
    if scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"AUTONOMIC_REDIS_URL scheme {scheme or url!r} is not supported: "
            "use memory://, redis://, rediss://, unix:// or redis+sentinel://"
        )

    def make(socket_timeout: float) -> Redis:
        return Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=socket_timeout,
            socket_connect_timeout=timeout,
            # One quick reconnect, then fail: callers answer 503 rather than hang.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
            health_check_interval=30,
        )

    return Clients(make(timeout), make(timeout + BLOCK_MS / 1000), embedded=False)
