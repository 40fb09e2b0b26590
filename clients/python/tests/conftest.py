"""Fixtures for the client's own tests: a key prefix on a real Redis, a private redis-server.

Self-contained (no server code): flags are written the way the wire contract
says Autonomic writes them (`publish_change`); the server's suite checks that
Autonomic really does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import redis

from autonomic_flags import contract

REDIS_URL = os.environ.get("AUTONOMIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], *, timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def publish_change(client: redis.Redis, prefix: str, name: str, value: str | None) -> None:
    """Change a flag as Autonomic does: write the value key, then announce it on the channel."""
    if value is None:
        client.delete(contract.value_key(prefix, name))
    else:
        client.set(contract.value_key(prefix, name), value)
    message = {"flag": name, "value": value, "reason": "set by alert:test", "at": int(time.time() * 1000)}
    import json

    client.publish(contract.changes_channel(prefix), json.dumps(message))


@pytest.fixture
def flag_prefix() -> Iterator[str]:
    """A fresh flag prefix on the shared Redis, its keys deleted afterwards."""
    prefix = f"test-client-{uuid.uuid4().hex[:10]}:flags:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def sync_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


class PrivateRedis:
    """A redis-server of our own on a free port, for tests that stop Redis."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="autonomic-flags-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: self._ping(), what="private redis-server")
        return self

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    yield server
    server.stop()
