"""Redis URLs: a cluster needs one hash tag shared by the namespace and the flag prefix."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster

from app.connection import connect, hash_tag
from app.errors import ConfigError
from app.settings import Settings


def test_hash_tag() -> None:
    assert hash_tag("{autonomic}:alerts") == "autonomic"
    assert hash_tag("autonomic:alerts") is None


@pytest.mark.parametrize(
    ("namespace", "prefix"),
    [("autonomic:", "flags:"), ("{a}:", "flags:"), ("{a}:", "{b}flags:")],
)
def test_cluster_refuses_keys_in_several_slots(namespace: str, prefix: str) -> None:
    settings = Settings(
        redis_url="redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
        redis_namespace=namespace,
        flag_prefix=prefix,
    )
    with pytest.raises(ConfigError, match="one hash tag"):
        connect(settings)


def test_cluster_client_from_url() -> None:
    settings = Settings(
        redis_url="redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
        redis_namespace="{autonomic}:",
        flag_prefix="{autonomic}flags:",
    )
    clients = connect(settings)  # no I/O until first use
    assert isinstance(clients.commands, RedisCluster)
    assert clients.commands is not clients.blocking


def test_bad_host_port_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bad host:port"):
        connect(Settings(redis_url="redis+cluster://h:notaport", redis_namespace="{a}:", flag_prefix="{a}f:"))


@pytest.mark.parametrize(
    ("userinfo", "username", "password"),
    [("autonomic:s%40cret", "autonomic", "s@cret"), (":s3cret", None, "s3cret"), ("s3cret", None, "s3cret")],
)
def test_cluster_and_sentinel_urls_keep_the_acl_user(
    userinfo: str, username: str | None, password: str
) -> None:
    cluster = connect(
        Settings(
            redis_url=f"redis+cluster://{userinfo}@127.0.0.1:7000",
            redis_namespace="{autonomic}:",
            flag_prefix="{autonomic}flags:",
        )
    ).commands
    assert isinstance(cluster, RedisCluster)
    assert (cluster.connection_kwargs.get("username"), cluster.connection_kwargs["password"]) == (
        username,
        password,
    )
    sentinel = connect(Settings(redis_url=f"redis+sentinel://{userinfo}@127.0.0.1:26379/mymaster")).commands
    kwargs = sentinel.connection_pool.connection_kwargs
    assert (kwargs.get("username"), kwargs["password"]) == (username, password)
