"""Flag change → visible to an OFREP client: p50 / p99 / max.

Run: .venv/bin/python bench/ofrep_propagation.py --url http://127.0.0.1:8080 --token T
     --redis redis://127.0.0.1:6379/0 --prefix P --namespace NS [--samples 200]
Sets a flag through Autonomic's lease script (as a playbook does) and times until the
unmodified PyPI OFREP provider (`openfeature-provider-ofrep`, one POST per evaluation)
evaluates the new value. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import redis.asyncio as aioredis
from openfeature.contrib.provider.ofrep import OFREPProvider

from app.actions.flags import FlagStore


async def run(args: argparse.Namespace) -> dict[str, float]:
    provider = OFREPProvider(args.url, headers_factory=lambda: {"Authorization": f"Bearer {args.token}"})
    redis = aioredis.Redis.from_url(args.redis, decode_responses=True)
    store = FlagStore(redis, prefix=args.prefix, namespace=args.namespace, grace_s=60)
    latencies = []
    for i in range(args.samples):
        value = f"v{i}"
        sent = time.perf_counter()
        await store.set("bench.ofrep", value, ttl_s=60, holder="alert:bench")
        while True:
            details = await asyncio.to_thread(provider.resolve_string_details, "bench.ofrep", "")
            if details.value == value:
                break
            if time.perf_counter() - sent > 10:
                raise SystemExit(f"change {i} not visible after 10 s")
        latencies.append((time.perf_counter() - sent) * 1000)
    await store.release_holder("alert:bench")
    await redis.aclose()
    latencies.sort()
    return {
        "samples": args.samples,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "max_ms": round(latencies[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("url", "token", "redis", "prefix", "namespace"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--samples", type=int, default=200)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
