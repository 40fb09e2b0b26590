"""Where each flag lease came from: the execution, alert or operator behind a holder.

A lease's holder is an opaque name (`alert:<fingerprint>`, `operator:dana`), which
tells an on-call nothing at 3 a.m. When a playbook takes a lease, the facade also
writes a small record here, one key per (holder, flag), kept as long as execution
records: the execution id, the alert's name, labels and generatorURL, and for
manual runs the operator and their reason. The console and `GET /api/flags` read
these records to name holders; a missing record (older lease, expired) only means
the holder is shown by its raw name.
"""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from app.coalesce import Coalescer
from app.keys import Keys


class LeaseOrigin(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The execution that took a lease and what it was acting on."""

    execution_id: str
    playbook: str
    source: str
    alertname: str = ""
    labels: dict[str, str] = {}
    fingerprint: str = ""
    generator_url: str = ""
    external_url: str = ""
    actor: str | None = None
    reason: str | None = None


_decoder = msgspec.json.Decoder(LeaseOrigin)
_encoder = msgspec.json.Encoder()


class LeaseOrigins:
    """Reads and writes lease origins (`Keys.lease_origin`)."""

    def __init__(self, redis: Redis, keys: Keys, *, ttl_s: float) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_s = max(1, int(ttl_s))
        # Every flag a playbook sets writes one: concurrent executions share the round trip.
        self._writes = Coalescer(redis, transaction=False)

    async def record(self, holder: str, flag: str, origin: LeaseOrigin) -> None:
        """Remember that `origin` took `holder`'s lease on `flag`."""
        key, value = self.keys.lease_origin(holder, flag), _encoder.encode(origin)

        def add(pipe: Pipeline) -> int:
            pipe.set(key, value, ex=self.ttl_s)
            return 1

        await self._writes.run(add)

    async def many(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], LeaseOrigin]:
        """The origins known for (holder, flag) pairs, in one round trip."""
        if not pairs:
            return {}
        # A pipeline of GETs, not MGET: on Redis Cluster the keys live in different slots.
        pipe = self.redis.pipeline(transaction=False)
        for holder, flag in pairs:
            pipe.get(self.keys.lease_origin(holder, flag))
        raw: list[Any] = await pipe.execute()
        out: dict[tuple[str, str], LeaseOrigin] = {}
        for pair, value in zip(pairs, raw, strict=True):
            if value:
                try:
                    out[pair] = _decoder.decode(value)
                except msgspec.DecodeError:
                    continue  # a record from an incompatible version: show the raw holder
        return out
