"""The kill switch: pause every new action, with who, why and until when.

The switch itself is the flag `autonomic.paused` (so scripts that set it with raw
Redis keep working); `GET/POST/DELETE /api/pause`, the CLI and the console set it
together with a record of who paused, why and until when (both expire together
when a duration is given). While paused, playbooks are recorded `refused` and take
no cooldown; releases and the built-in resolve still run because they only restore
baselines; on resume the deferred alerts are re-applied.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.actions.flags import PAUSED_FLAG, FlagStore, is_truthy
from app.keys import Keys


class PauseState(msgspec.Struct):
    """Whether Autonomic is paused; by whom, why, since and until when (epoch seconds)."""

    paused: bool
    reason: str | None = None
    by: str | None = None
    since: float | None = None
    until: float | None = None
    source: str | None = None  # "api" (the API, CLI or console) or "flag" (raw autonomic.paused)


class _Record(msgspec.Struct):
    reason: str
    by: str
    since: float
    until: float | None = None


_record_decoder = msgspec.json.Decoder(_Record)


class PauseStore:
    """Reads and flips the kill switch."""

    def __init__(self, redis: Redis, keys: Keys, flags: FlagStore) -> None:
        self.redis = redis
        self.keys = keys
        self.flags = flags

    async def get(self) -> PauseState:
        """The current state; a raw `autonomic.paused` flag counts as paused without a record."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.flags.paused_key)
        pipe.get(self.keys.pause)
        pipe.pttl(self.flags.paused_key)
        value, raw, pttl = await pipe.execute()
        if not is_truthy(value):
            return PauseState(paused=False)
        until = time.time() + int(pttl) / 1000 if int(pttl) > 0 else None
        if not raw:
            reason = "the flag autonomic.paused is set"
            return PauseState(paused=True, reason=reason, until=until, source="flag")
        record = _record_decoder.decode(raw)
        return PauseState(True, record.reason, record.by, record.since, until or record.until, "api")

    async def pause(self, reason: str, by: str, for_s: float | None = None) -> PauseState:
        """Pause now, until resumed or for `for_s` seconds."""
        now = time.time()
        until = now + for_s if for_s else None
        record = msgspec.json.encode(_Record(reason, by, now, until))
        px: Any = int(for_s * 1000) if for_s else None
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.flags.paused_key, "true", px=px)
        pipe.set(self.keys.pause, record, px=px)
        pipe.publish(self._channel, self._change("true", f"paused by {by}"))
        await pipe.execute()
        return PauseState(True, reason, by, now, until, "api")

    async def resume(self, by: str) -> PauseState:
        """Resume; return the state before."""
        before = await self.get()
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.flags.paused_key, self.keys.pause)
        pipe.publish(self._channel, self._change(None, f"resumed by {by}"))
        await pipe.execute()
        return before

    @property
    def _channel(self) -> str:
        return self.flags.flag_keys.changes

    @staticmethod
    def _change(value: str | None, reason: str) -> bytes:
        # The contract's message without the lease figures (held, holder, exp): a lease may
        # hold this flag too, so readers re-read it (the contract makes the three optional).
        at = int(time.time() * 1000)
        return msgspec.json.encode({"flag": PAUSED_FLAG, "value": value, "reason": reason, "at": at})
