"""Measure how long a flag change takes to reach a subscribed FlagClient (p50 / p99 / max).

Run: .venv/bin/python bench/flag_propagation.py [--url redis://127.0.0.1:6379/0] [--samples 500]
Sets a flag through Autonomic's lease script and times until the client's
change listener sees it (the moment a `get` would return the new value).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
import uuid

import redis.asyncio as aioredis

from app.actions.flags import FlagStore
from autonomic_flags import FlagClient


async def run(url: str, samples: int) -> dict[str, float]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    client = FlagClient.from_url(url, prefix=prefix, cache_ttl=3600)
    arrived: dict[str, float] = {}
    event = threading.Event()

    def seen(name: str, value: str | None) -> None:
        arrived[value or ""] = time.perf_counter()
        event.set()

    client.on_change(seen)
    while not client.live:
        await asyncio.sleep(0.01)
    redis = aioredis.Redis.from_url(url, decode_responses=True)
    store = FlagStore(redis, prefix=prefix, namespace=prefix, grace_s=60)
    latencies = []
    for i in range(samples):
        event.clear()
        value = f"v{i}"
        sent = time.perf_counter()
        await store.set("bench.flag", value, ttl_s=60, holder="alert:bench")
        while value not in arrived:
            await asyncio.to_thread(event.wait, 5)
            event.clear()
        latencies.append((arrived[value] - sent) * 1000)
    await store.release_holder("alert:bench")
    await redis.aclose()
    client.close()
    latencies.sort()
    return {
        "samples": samples,
        "p50_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "max_ms": round(latencies[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.samples))))


if __name__ == "__main__":
    main()
