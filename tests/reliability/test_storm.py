"""An alert storm: 50,000 alerts in grouped payloads of up to 1,000 against a small queue cap.
Every webhook is answered 202 or 503 (never 429: Alertmanager does not retry 4xx), every
accepted alert is executed (nothing dropped after a 202), the queue drains, memory stays bounded."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import redis

from tests.integration.helpers import WEBHOOK, alert, payload
from tests.support.procs import Service, wait_for

TOTAL, GROUP, CAP = 50_000, 1_000, 12_000


def test_storm_is_answered_drained_and_bounded(
    start_service: Callable[..., Service], test_playbooks: Path, sync_redis: redis.Redis, ns: str
) -> None:
    svc = start_service(
        AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks),
        AUTONOMIC_QUEUE_MAX_LEN=str(CAP),
        AUTONOMIC_EXECUTIONS_MAX_LEN="100000",
        AUTONOMIC_WORKERS="32",
        AUTONOMIC_LOG_LEVEL="warning",
    )
    bodies = [
        payload(*(alert("StormTest", n=str(b * GROUP + i)) for i in range(GROUP)))
        for b in range(TOTAL // GROUP)
    ]

    async def storm() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16)) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{svc.url}/webhooks/alertmanager", json=body, headers=WEBHOOK)
                    for body in bodies
                )
            )

    responses = asyncio.run(storm())
    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {202, 503}, codes
    assert all(r.headers.get("retry-after") for r in responses if r.status_code == 503)
    accepted = sum(r.json()["accepted"] for r in responses if r.status_code == 202)
    assert accepted == codes[202] * GROUP  # fresh fingerprints: no duplicates

    def drained() -> bool:
        group = sync_redis.xinfo_groups(f"{ns}alerts")[0]
        return group["lag"] == 0 and group["pending"] == 0

    wait_for(drained, timeout=240, interval=0.2, what="queue drained")
    wait_for(lambda: sync_redis.xlen(f"{ns}executions") == accepted, what="every accepted alert executed")
    status = Path(f"/proc/{svc.proc.pid}/status").read_text()  # type: ignore[union-attr]
    peak_mb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    summary = f"{codes[202]} x 202, {codes[503]} x 503, {accepted} alerts executed, peak RSS {peak_mb:.0f} MB"
    print(f"\nstorm: {summary}")
    assert peak_mb < 250
