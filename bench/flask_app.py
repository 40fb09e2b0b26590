"""The usual alternative: a synchronous Flask receiver that writes the flags inline, as the
architecture guide's webhook handler does (one Redis round trip per flag, no queue, no dedup)."""

import os

import redis
from flask import Flask, request

app = Flask(__name__)
r = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
PREFIX = os.environ.get("BENCH_PREFIX", "bench-flask:")


@app.post("/webhooks/alertmanager")
def webhook():  # type: ignore[no-untyped-def]
    payload = request.get_json(force=True)
    for alert in payload.get("alerts", []):
        if alert.get("status") == "firing":
            r.set(PREFIX + "llm.model_tier", "economy", ex=7200)
            r.set(PREFIX + "cache.mode", "aggressive", ex=7200)
            r.set(PREFIX + "ratelimit.factor", "0.5", ex=7200)
    return {"accepted": len(payload.get("alerts", []))}, 202
