"""Redis HA on the real thing (Debian's redis-server and redis-sentinel on loopback).

Sentinel: a primary, a replica and three Sentinels; Autonomic on
`redis+sentinel://`; the primary is SIGKILLed in the middle of a 5,000-alert
stream sent the way Alertmanager sends (grouped webhooks, every 5xx or
connection error retried with backoff). After the failover every alert has had
exactly one effect and every flag holds exactly the leases of its alerts.

Cluster: three primaries made by `redis-cli --cluster create`; the core-loop and
flag-lease suites run against it (`AUTONOMIC_TEST_REDIS_URL=redis+cluster://…`),
and the flag client reads what the service set there.

Figures (recovery time, 503s, retries, re-runs) are printed for docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from autonomic_flags import FlagClient
from tests.conftest import CLUSTER, WEBHOOK_TOKEN
from tests.integration.helpers import alert, payload, post
from tests.support.procs import ROOT, Service, wait_for
from tests.support.redis_ha import Cluster, SentinelSet

TOTAL, GROUP, GROUPS_OF_FLAGS, KILL_AFTER = 5_000, 25, 50, 2_000


class AlertmanagerLikeSender:
    """POSTs every body until it is answered 2xx, retrying 5xx, timeouts and refused
    connections with capped exponential backoff, as Alertmanager's notifier does."""

    def __init__(self, url: str, on_accepted: Callable[[AlertmanagerLikeSender], None]) -> None:
        self.url = url
        self.on_accepted = on_accepted
        self.codes: Counter[str] = Counter()
        self.accepted = 0
        self.killed_at: float | None = None
        self.first_ok_after_kill: float | None = None

    async def send(self, bodies: list[dict[str, Any]], concurrency: int = 8) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)
        headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

        async def worker(client: httpx.AsyncClient) -> None:
            while not queue.empty():
                body = queue.get_nowait()
                delay = 0.05
                while True:
                    sent = time.monotonic()
                    phase = "before" if self.killed_at is None else "after"
                    try:
                        response = await client.post(self.url, json=body, headers=headers)
                        self.codes[f"{phase}:{response.status_code}"] += 1
                        if response.status_code < 300:
                            self.accepted += response.json()["accepted"]
                            if self.killed_at is not None and sent > self.killed_at:
                                self.first_ok_after_kill = self.first_ok_after_kill or time.monotonic()
                            self.on_accepted(self)
                            break
                        assert response.status_code >= 500, response.text  # a 4xx would be dropped
                    except httpx.TransportError as exc:
                        self.codes[f"{phase}:{type(exc).__name__}"] += 1
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)

        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(*(worker(client) for _ in range(concurrency)))


def test_sentinel_failover_mid_stream_loses_and_doubles_nothing(
    start_service: Callable[..., Service], test_playbooks: Path, sync_redis: redis.Redis, ns: str
) -> None:
    assert not CLUSTER
    sentinels = SentinelSet().start()
    try:
        svc = start_service(
            AUTONOMIC_REDIS_URL=sentinels.url,
            AUTONOMIC_REDIS_TIMEOUT="0.5",
            AUTONOMIC_REDIS_WAIT_REPLICAS="1",
            AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks),
            AUTONOMIC_BUILTIN_PLAYBOOKS="false",
            AUTONOMIC_EXECUTIONS_MAX_LEN="20000",
            AUTONOMIC_WORKERS="16",
            AUTONOMIC_LOG_LEVEL="warning",
        )
        alerts = [alert("HaTest", group=str(i % GROUPS_OF_FLAGS), n=str(i)) for i in range(TOTAL)]
        bodies = [payload(*alerts[i : i + GROUP]) for i in range(0, TOTAL, GROUP)]
        old_primary = sentinels.current_primary()

        def maybe_kill(sender: AlertmanagerLikeSender) -> None:
            if sender.accepted >= KILL_AFTER and sender.killed_at is None:
                sender.killed_at = time.monotonic()
                sentinels.primary.kill()  # SIGKILL mid-stream

        started = time.monotonic()
        sender = AlertmanagerLikeSender(f"{svc.url}/webhooks/alertmanager", maybe_kill)
        asyncio.run(sender.send(bodies))
        assert sender.killed_at is not None, "the primary was never killed"
        effects_key, runs_key = f"{ns}ha:effects", f"{ns}ha:runs"
        wait_for(
            lambda: sync_redis.hlen(effects_key) >= TOTAL,
            timeout=180,
            interval=0.5,
            what="every alert's effect",
        )
        wait_for(lambda: sentinels.current_primary() != old_primary, what="sentinels name a new primary")
        effects = {k: int(v) for k, v in sync_redis.hgetall(effects_key).items()}
        runs = {k: int(v) for k, v in sync_redis.hgetall(runs_key).items()}
        fingerprints = {a["fingerprint"] for a in alerts}
        assert set(effects) == fingerprints  # none lost
        assert set(effects.values()) == {1}  # none doubled
        primary = sentinels.client()
        for g in range(GROUPS_OF_FLAGS):
            name = f"{ns}flags:ha.g{g}"
            holders = set(primary.hkeys(name + ":leases")) - {"~baseline"}
            expected = {f"alert:{a['fingerprint']}" for a in alerts if a["labels"]["group"] == str(g)}
            assert primary.get(name) == "on"
            assert holders == expected, f"group {g}: {len(holders)} leases, {len(expected)} alerts"
        primary.close()
        recovery = (sender.first_ok_after_kill or sender.killed_at) - sender.killed_at
        print(
            f"\nHA-FIGURES sentinel: alerts={TOTAL} accepted={sender.accepted} codes={dict(sender.codes)} "
            f"lost=0 doubled=0 re-executions={sum(runs.values()) - TOTAL} "
            f"first_202_after_kill_s={recovery:.2f} total_s={time.monotonic() - started:.1f}"
        )
    finally:
        sentinels.stop()


def test_core_loop_and_flag_leases_pass_on_a_redis_cluster() -> None:
    assert not CLUSTER
    cluster = Cluster().start()
    try:
        env = {**os.environ, "AUTONOMIC_TEST_REDIS_URL": cluster.url}
        suites = ["tests/integration/test_core_loop.py", "tests/integration/test_flag_leases.py"]
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suites],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
        assert " passed" in result.stdout and "skipped" not in result.stdout
    finally:
        cluster.stop()


def test_flag_client_reads_what_the_service_set_on_a_cluster(
    start_service: Callable[..., Service], ns: str
) -> None:
    cluster = Cluster().start()
    tag = "{" + ns.rstrip(":") + "}"
    try:
        svc = start_service(
            AUTONOMIC_REDIS_URL=cluster.url,
            AUTONOMIC_REDIS_NAMESPACE=f"{tag}:",
            AUTONOMIC_FLAG_PREFIX=f"{tag}flags:",
        )
        client = cluster.client()
        # Following change messages over cluster Pub/Sub, with a cache that would otherwise
        # keep the first (absent) answer for ten minutes.
        flags = FlagClient(client, prefix=f"{tag}flags:", cache_ttl=600)  # type: ignore[arg-type]
        changes: list[str] = []
        flags.on_change(lambda name, value: changes.append(name))
        try:
            wait_for(lambda: flags.live, what="flag client subscribed on the cluster")
            assert flags.get_str("llm.model_tier", "standard") == "standard"
            post(svc.url, payload(alert("CostSpike")))
            wait_for(
                lambda: flags.get_str("llm.model_tier", "standard") == "economy", what="flag via the client"
            )
            assert flags.get_str("cache.mode", "normal") == "aggressive"
            assert "llm.model_tier" in changes
        finally:
            flags.close()
            client.close()
    finally:
        cluster.stop()
