"""`autonomic serve` that cannot start exits at once, in one line, holding nothing (real Redis)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest
import redis

from app.engine.runtime import Runtime
from app.settings import Settings
from tests.conftest import REDIS_URL, service_env
from tests.support.procs import ROOT, free_port


def serve(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    # The timeout only turns a hang (the bug) into a failure; a working run exits in about a second.
    return subprocess.run(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_port_in_use_is_one_line_and_exit_2(ns: str, sync_redis: redis.Redis) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(service_env(ns, AUTONOMIC_LEADER_TTL="1.5s"), port)
    assert done.returncode == 2, done.stderr
    assert done.stderr.rstrip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: address already in use"
    )
    assert "Traceback" not in done.stderr and "Errno" not in done.stderr
    assert "workers started" not in done.stderr  # failed before anything ran
    assert not sync_redis.exists(f"{ns}leader", f"{ns}leader:name")


def test_failure_inside_start_up_is_one_line_and_exit_2(ns: str, sync_redis: redis.Redis) -> None:
    done = serve(service_env(ns, AUTONOMIC_COST_SOURCE="bogus"), free_port())
    assert done.returncode == 2, done.stderr
    last = done.stderr.rstrip().splitlines()[-1]
    assert last.startswith("error: start-up failed: ValueError: AUTONOMIC_COST_SOURCE must be"), last
    assert "Traceback" not in done.stderr
    assert not sync_redis.exists(f"{ns}leader", f"{ns}leader:name")


async def test_a_runtime_that_fails_half_way_stops_what_it_started(
    ns: str, sync_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler has taken the leader lock when the workers fail to start: it must let go."""
    settings = Settings(redis_url=REDIS_URL, redis_namespace=ns, leader_ttl=30, playbook_entry_points=False)
    runtime = Runtime.build(settings)
    took_lock = False

    async def broken_workers() -> None:
        nonlocal took_lock
        for _ in range(200):  # the election loop runs at once; let it take the lock first
            if runtime.scheduler.leading:
                break
            await asyncio.sleep(0.01)
        took_lock = bool(sync_redis.exists(f"{ns}leader"))
        raise OSError("no more file descriptors")

    monkeypatch.setattr(runtime.workers, "start", broken_workers)
    with pytest.raises(OSError, match="no more file descriptors"):
        await runtime.start()
    assert took_lock
    assert not runtime.scheduler.scheduler.running
    assert not sync_redis.exists(f"{ns}leader", f"{ns}leader:name")
