"""Webhook sent → flag set in Redis, at a fixed rate: an async load generator posts one BenchFlag
alert per request; a subscriber to `{prefix}changes` reads when Redis changed each flag (the
message's `at`, 1 ms resolution, on the clock the sender stamps with: one machine). Prints one
JSON line: rate, samples, missing, p50/p99/max in ms, the webhooks' answer p50/p99 and any
answers other than 202 by status."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid

import aiohttp
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
    accepted: list[float] = []  # webhook → its answer, ms
    refused: dict[str, int] = {}  # answers other than 202, by status
    seen: dict[str, float] = {}
    client = aioredis.Redis.from_url(args.redis, decode_responses=True)
    pubsub = client.pubsub()
    await pubsub.subscribe(args.prefix + "changes")
    await pubsub.get_message(timeout=1)

    async def listen() -> None:
        # listen(), not get_message(timeout=…): a read timeout that fires mid-message loses it.
        async for message in pubsub.listen():
            # Only this run's flags: a flood's changes arrive here too, and decoding each
            # would load the measuring process, not the service.
            if message["type"] == "message" and run in message["data"]:
                change = json.loads(message["data"])
                # When Redis made the change (flags.lua's `at`, epoch ms), not when this process
                # got to the message: on a loaded 2-core machine the listener itself lags.
                seen.setdefault(change["flag"], change["at"] / 1000)

    run = uuid.uuid4().hex[:6]
    listener = asyncio.create_task(listen())
    total = int(args.rate * args.seconds)
    # aiohttp: a fraction of httpx's CPU per request, which on 2 cores the service would lose.
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:

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
            payload = json.dumps(body)
            sent[f"bench.{name}"] = time.time()  # the clock Redis stamps `at` with (one machine)
            began = time.perf_counter()
            async with http.post(
                f"{args.url}/webhooks/alertmanager",
                data=payload,
                headers={"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"},
            ) as response:
                await response.read()
            accepted.append((time.perf_counter() - began) * 1000)
            if response.status != 202:
                refused[str(response.status)] = refused.get(str(response.status), 0) + 1

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
    # `seen` also holds other flags (a flood's): wait for ours.
    while any(name not in seen for name in sent) and time.perf_counter() < deadline:
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
                "answer_p50_ms": round(statistics.median(accepted), 2),
                "answer_p99_ms": round(sorted(accepted)[max(0, int(len(accepted) * 0.99) - 1)], 2),
                "refused": refused,
            }
        )
    )
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
