"""Redis clients from `AUTONOMIC_REDIS_URL`: `redis://`, `rediss://`, `unix://`,
`redis+sentinel://host:port[,host:port]/service[/db]`,
`redis+cluster://host:port[,host:port]` (Redis Cluster), or `memory://` for an
in-process Redis (fakeredis with Lua) that runs the same code paths.

On a cluster every key Autonomic touches must live in one slot, because scripts
and MULTI/EXEC span several keys: the namespace and the flag prefix must carry
the same hash tag (`{autonomic}:` and `{autonomic}flags:`); `connect` refuses
anything else. The cluster client is used through the `Redis` interface (the
commands Autonomic uses behave the same on both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff

from app.errors import ConfigError
from app.redis_packing import BY_SCHEME, HiredisSentinelConnection
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
    username, password = _credentials(netloc[0] if len(netloc) == 2 else None)
    hosts = _hosts(netloc[-1], 26379)
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ConfigError(
            "redis+sentinel:// URL needs the service name: redis+sentinel://host:26379/mymaster"
        )
    db = int(path[1]) if len(path) > 1 else 0
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts,
        socket_timeout=socket_timeout,
        username=username,
        password=password,
        # Sentinels themselves are usually protected by `requirepass` alone: password only.
        sentinel_kwargs={"password": password} if password else None,
    )
    client: Redis = sentinel.master_for(
        path[0],
        db=db,
        decode_responses=True,
        socket_timeout=socket_timeout,
        connection_class=HiredisSentinelConnection,
    )
    return client


def _credentials(userinfo: str | None) -> tuple[str | None, str | None]:
    """`user:password`, `:password` or `password` (the part before `@`) as (username, password);
    an ACL user is kept, as redis-py's own URL parsing does for redis://."""
    if userinfo is None:
        return None, None
    user, colon, password = userinfo.partition(":")
    if not colon:
        return None, unquote(user)
    return unquote(user) or None, unquote(password)


def _hosts(netloc: str, default_port: int) -> list[tuple[str, int]]:
    hosts = []
    for item in netloc.split(","):
        host, _, port = item.rpartition(":")
        try:
            hosts.append((host or item, int(port) if host else default_port))
        except ValueError:
            raise ConfigError(f"bad host:port {item!r} in AUTONOMIC_REDIS_URL") from None
    return hosts


def hash_tag(key: str) -> str | None:
    """The part of `key` Redis Cluster hashes (`{...}`), or None when it has no hash tag."""
    match = re.search(r"\{([^}]+)\}", key)
    return match.group(1) if match else None


def _cluster_client(settings: Settings, socket_timeout: float) -> Redis:
    parts = urlsplit(settings.redis_url)
    netloc = parts.netloc.rsplit("@", 1)
    username, password = _credentials(netloc[0] if len(netloc) == 2 else None)
    nodes = [ClusterNode(host, port) for host, port in _hosts(netloc[-1], 6379)]
    client = RedisCluster(
        startup_nodes=nodes,
        username=username,
        password=password,
        decode_responses=True,
        socket_timeout=socket_timeout,
        socket_connect_timeout=settings.redis_timeout,
        ssl=parts.scheme.lower() == "rediss+cluster",
    )
    return cast(Redis, client)


def check_cluster_keys(settings: Settings) -> None:
    """On a cluster, the namespace and flag prefix must share one hash tag (one slot)."""
    ns, flags = hash_tag(settings.redis_namespace), hash_tag(settings.flag_prefix)
    if ns is None or ns != flags:
        raise ConfigError(
            "redis+cluster:// needs one hash tag in both AUTONOMIC_REDIS_NAMESPACE and "
            "AUTONOMIC_FLAG_PREFIX (e.g. {autonomic}: and {autonomic}flags:), so every "
            f"key lives in one slot; got {settings.redis_namespace!r} and {settings.flag_prefix!r}"
        )


@dataclass(frozen=True)
class Clients:
    """`commands` for ordinary calls (short timeout); `blocking` for blocking stream reads."""

    commands: Redis
    blocking: Redis

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
        return Clients(client, client)
    timeout = settings.redis_timeout
    if scheme in ("redis+cluster", "rediss+cluster"):
        check_cluster_keys(settings)
        return Clients(
            _cluster_client(settings, timeout),
            _cluster_client(settings, timeout + BLOCK_MS / 1000),
        )
    if scheme == "redis+sentinel":
        return Clients(
            _sentinel_client(url, timeout),
            _sentinel_client(url, timeout + BLOCK_MS / 1000),
        )
    if scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"AUTONOMIC_REDIS_URL scheme {scheme or url!r} is not supported: "
            "use memory://, redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://"
        )

    def make(socket_timeout: float) -> Redis:
        client = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=socket_timeout,
            socket_connect_timeout=timeout,
            # One quick reconnect, then fail: callers answer 503 rather than hang.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
            health_check_interval=30,
        )
        # The URL picks the connection class (TLS, Unix socket); swap in its hiredis-packing twin.
        client.connection_pool.connection_class = BY_SCHEME[scheme]
        return client

    return Clients(make(timeout), make(timeout + BLOCK_MS / 1000))
