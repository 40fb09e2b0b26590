"""Webhook received → flag visible in Redis, at a fixed rate: an async load generator posts one
BenchFlag alert per request and a subscriber to `{prefix}changes` timestamps each flag's arrival.
Prints one JSON line: rate, samples, p50/p99/max in ms."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid

import httpx
import redis.asyncio as aioredis


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--severity", default="", help="severity label of each alert (none by default)")
    args = parser.parse_args()

    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    client = aioredis.Redis.from_url(args.redis, decode_responses=True)
    pubsub = client.pubsub()
    await pubsub.subscribe(args.prefix + "changes")
    await pubsub.get_message(timeout=1)

    async def listen() -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                flag = json.loads(message["data"])["flag"]
                seen.setdefault(flag, time.perf_counter())

    listener = asyncio.create_task(listen())
    run = uuid.uuid4().hex[:6]
    total = int(args.rate * args.seconds)
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=64)) as http:

        async def one(i: int) -> None:
            name = f"{run}{i}"
            body = {
                "version": "4",
                "alerts": [
                    {
                        "status": "firing",
                        "fingerprint": f"{run}{i:08d}",
                        "labels": {
                            "alertname": "BenchFlag",
                            "n": name,
                            **({"severity": args.severity} if args.severity else {}),
                        },
                        "startsAt": "2026-11-26T10:00:00Z",
                    }
                ],
            }
            sent[f"bench.{name}"] = time.perf_counter()
            await http.post(
                f"{args.url}/webhooks/alertmanager",
                json=body,
                headers={"Authorization": f"Bearer {args.token}"},
            )

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 10
    while len(seen) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    listener.cancel()
    latencies = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
    print(
        json.dumps(
            {
                "rate": round(total / elapsed, 1),
                "samples": len(latencies),
                "missing": total - len(latencies),
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
                "max_ms": round(latencies[-1], 2),
            }
        )
    )
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
