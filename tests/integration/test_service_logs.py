"""What an idle replica logs: its own events, not one line per scheduler run (real process)."""

from __future__ import annotations

import json
from collections.abc import Callable

import redis

from tests.support.procs import Service, wait_for


def test_scheduler_runs_are_not_logged_at_info(
    start_service: Callable[..., Service], ns: str, sync_redis: redis.Redis
) -> None:
    svc = start_service(AUTONOMIC_LEADER_TTL="1.5s", AUTONOMIC_JOB_LEASE_SWEEPER="interval:0.2s")
    wait_for(lambda: sync_redis.llen(f"{ns}job:lease_sweeper:runs") >= 3, what="three sweeper runs")
    svc.stop()
    records = [json.loads(line) for line in svc.logs().splitlines() if line.startswith("{")]
    assert any(r["event"] == "scheduler leadership acquired" for r in records)  # our own job logging stays
    chatty = [r["event"] for r in records if r.get("logger", "").startswith("apscheduler")]
    assert chatty == []
