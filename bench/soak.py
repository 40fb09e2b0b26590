"""Soak: `bench/soak.py [--minutes 10] [--rate 20]` runs moderate load against one replica and
reports, every 30 s, the replica's memory and Redis's key counts by family, so growth beyond
the caps shows. Each alert fires, sets a flag, and resolves a few seconds later; TTLs are
shortened (dedup and execution records: 2 min) so the plateau is reached within the run.
Prints a table and writes bench/soak.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import BENCH, REDIS_URL, TOKEN, autonomic, cleanup, free_port


def families(client: redis.Redis, ns: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for key in client.scan_iter(match=f"{ns}*", count=5000):
        rest = key.decode()[len(ns) :]
        family = (
            rest.split(":", 1)[0]
            if not rest.startswith("flags:")
            else "flags:" + ("leases" if rest.endswith(":leases") else "value")
        )
        counts[family] += 1
    return counts


async def load(url: str, rate: float, seconds: float, stop_at: float) -> int:
    sent = 0
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=10) as http:
        start = time.monotonic()
        pending: list[tuple[float, dict[str, object]]] = []
        while time.monotonic() < stop_at:
            alert = {
                "status": "firing",
                "fingerprint": f"{run}{sent:010d}",
                "startsAt": "2026-11-26T10:00:00Z",
                "labels": {"alertname": "BenchFlag", "n": f"{run}{sent % 500}"},
            }
            await http.post(
                f"{url}/webhooks/alertmanager",
                json={"alerts": [alert]},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            pending.append((time.monotonic() + 3, {**alert, "status": "resolved"}))
            while pending and pending[0][0] <= time.monotonic():
                _, resolved = pending.pop(0)
                await http.post(
                    f"{url}/webhooks/alertmanager",
                    json={"alerts": [resolved]},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
            sent += 1
            delay = start + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=20, help="new alerts per second (each also resolves)")
    args = parser.parse_args()
    ns = f"bench-soak-{uuid.uuid4().hex[:6]}:"
    port = free_port()
    svc = autonomic(
        port,
        ns,
        "soak",
        AUTONOMIC_DEDUP_TTL="2m",
        AUTONOMIC_EXECUTION_TTL="2m",
        AUTONOMIC_EXECUTIONS_MAX_LEN="2000",
        AUTONOMIC_JOB_LEASE_SWEEPER="interval:5s",
        AUTONOMIC_JOB_LIFECYCLE="interval:1m",
    )
    client = redis.Redis.from_url(REDIS_URL)
    url = f"http://127.0.0.1:{port}"
    stop_at = time.monotonic() + args.minutes * 60
    samples = []
    loop = asyncio.new_event_loop()
    task = loop.create_task(load(url, args.rate, args.minutes * 60, stop_at))
    started = time.monotonic()
    next_sample = started
    while not task.done():
        loop.run_until_complete(asyncio.sleep(0.5))
        if time.monotonic() >= next_sample:
            status = Path(f"/proc/{svc.proc.pid}/status").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
            fam = families(client, ns)
            sample = {
                "t_s": round(time.monotonic() - started),
                "rss_mb": round(rss, 1),
                "redis_used_mb": round(client.info("memory")["used_memory"] / 2**20, 1),
                "keys": sum(fam.values()),
                "families": dict(fam),
                "alerts_stream": client.xlen(f"{ns}alerts"),
                "executions_stream": client.xlen(f"{ns}executions"),
            }
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            next_sample += 30
    sent = task.result()
    svc.stop()
    cleanup(ns)
    (BENCH / "soak.json").write_text(
        json.dumps({"rate": args.rate, "minutes": args.minutes, "sent": sent, "samples": samples}, indent=1)
        + "\n"
    )
    print(f"sent {sent} alerts (+ {sent} resolved) in {args.minutes} min")


if __name__ == "__main__":
    main()
