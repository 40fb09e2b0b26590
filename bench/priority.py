"""Priority during a storm: queue a storm of warning alerts (BenchFlag, payloads of 1,000),
then post one critical BenchFlag alert every 100 ms while the warnings drain, and time each
critical webhook → its flag set (when Redis changed it: the `at` of its `{prefix}changes`
message, 1 ms resolution, on the clock the sender stamps with). Prints one JSON line:
warnings, backlog when the first critical was sent, samples, p50/p99/max in ms."""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid

import httpx
import redis


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--ns", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--warnings", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()

    client = redis.Redis.from_url(args.redis, decode_responses=True)
    seen: dict[str, float] = {}
    pubsub = client.pubsub()
    pubsub.subscribe(args.prefix + "changes")
    pubsub.get_message(timeout=1)
    stop = threading.Event()

    def listen() -> None:
        # listen(), not get_message(timeout=…): a read timeout that fires mid-message loses it.
        # The warnings' changes arrive too: only the criticals' are decoded.
        for message in pubsub.listen():
            if stop.is_set():
                return
            if message["type"] == "message" and "crit" in message["data"]:
                change = json.loads(message["data"])
                seen.setdefault(change["flag"], change["at"] / 1000)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    run = uuid.uuid4().hex[:6]
    headers = {"Authorization": f"Bearer {args.token}"}
    url = f"{args.url}/webhooks/alertmanager"

    def body(n: str, severity: str, fingerprint: str) -> dict[str, object]:
        labels = {"alertname": "BenchFlag", "n": n, "severity": severity}
        return {
            "status": "firing",
            "labels": labels,
            "fingerprint": fingerprint,
            "startsAt": "2026-11-26T10:00:00Z",
        }

    sent: dict[str, float] = {}
    with httpx.Client(timeout=30) as http:
        for batch in range(args.warnings // 1000):
            alerts = [body(f"w{batch}-{i}", "warning", f"{run}w{batch:04d}{i:04d}") for i in range(1000)]
            http.post(url, json={"version": "4", "alerts": alerts}, headers=headers).raise_for_status()
        backlog = int(client.xlen(args.ns + "alerts"))
        start = time.perf_counter()
        for i in range(args.samples):
            delay = start + i * 0.1 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            name = f"crit{run}{i}"
            sent[f"bench.{name}"] = time.time()  # the clock Redis stamps `at` with (one machine)
            payload = {"version": "4", "alerts": [body(name, "critical", f"{run}c{i:06d}")]}
            http.post(url, json=payload, headers=headers).raise_for_status()
    deadline = time.perf_counter() + 10
    while len(seen) < len(sent) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    latencies = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
    remaining = int(client.xlen(args.ns + "alerts"))

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else -1.0

    print(
        json.dumps(
            {
                "warnings": args.warnings,
                "backlog_at_first_critical": backlog,
                "backlog_after_last_critical": remaining,
                "samples": len(latencies),
                "lost": len(sent) - len(latencies),
                "p50_ms": round(statistics.median(latencies), 2) if latencies else -1.0,
                "p99_ms": pct(0.99),
                "max_ms": round(latencies[-1], 2) if latencies else -1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
