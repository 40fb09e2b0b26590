"""Execution records in Redis: each record once, as the latest state by id (`exec:{id}`, with a
retention TTL); a capped stream of finished execution ids, newest last, indexes them by finish
time for listing; and each completed action by index so a re-run skips what already took effect.
"""

from __future__ import annotations

import re
import time
import uuid
from importlib.resources import files
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.actions.flags import is_truthy
from app.coalesce import CoalescedScript
from app.keys import Keys
from app.models import ActionRecord, Alert, Execution, Source

# Every id we issue: `ex-` + hex digest, or `ex-<kind>-<hex>` for direct records. Ids from
# outside are checked against it before any Redis call, so `ex-1:actions` names no other key.
EXECUTION_ID = re.compile(r"ex-[A-Za-z0-9_-]{1,120}")
_exec_decoder = msgspec.json.Decoder(Execution)
_action_decoder = msgspec.json.Decoder(ActionRecord)
_encoder = msgspec.json.Encoder()
_PRIOR = files("app.engine").joinpath("prior.lua").read_text()
_FINISH = files("app.engine").joinpath("finish.lua").read_text()


def valid_id(execution_id: str) -> bool:
    """True if `execution_id` has the shape of an execution id."""
    return bool(EXECUTION_ID.fullmatch(execution_id))


class ExecutionStore:
    """Reads and writes execution records."""

    def __init__(self, redis: Redis, keys: Keys, *, max_len: int, ttl_s: float) -> None:
        self.redis = redis
        self.keys = keys
        self.max_len = max_len
        self.ttl_s = max(1, int(ttl_s))
        # Concurrent runs share the round trips of these two calls.
        self._prior = CoalescedScript(redis, _PRIOR)
        self._finish = CoalescedScript(redis, _FINISH)

    async def get(self, execution_id: str) -> Execution | None:
        """The latest recorded state of one execution (None for an id of the wrong shape)."""
        if not valid_id(execution_id):
            return None
        raw = await self.redis.get(self.keys.execution(execution_id))
        return _exec_decoder.decode(raw) if raw else None

    async def prior(
        self, execution_id: str, paused_key: str
    ) -> tuple[Execution | None, dict[int, ActionRecord], bool]:
        """In one (shared) round trip: the recorded state, the completed actions, the kill switch."""
        keys = [self.keys.execution(execution_id), self.keys.actions(execution_id), paused_key]
        raw, actions, paused = await self._prior(keys, [])
        existing = _exec_decoder.decode(raw) if raw else None
        completed = {
            int(actions[i]): _action_decoder.decode(actions[i + 1]) for i in range(0, len(actions), 2)
        }
        return existing, completed, is_truthy(paused)

    async def start(self, execution: Execution) -> None:
        """Record that an execution is running."""
        await self.redis.set(self.keys.execution(execution.id), _encoder.encode(execution), ex=self.ttl_s)

    async def finish(self, execution: Execution) -> None:
        """Record the final state and append its id to the executions stream, atomically
        (concurrent finishes share one round trip). The record itself is stored once, by id."""
        keys = [self.keys.execution(execution.id), self.keys.executions]
        await self._finish(keys, [_encoder.encode(execution), self.ttl_s, execution.id, self.max_len])

    async def record_direct(
        self,
        playbook: str,
        source: Source,
        alert: Alert,
        actions: list[ActionRecord],
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Execution:
        """Record actions Autonomic took directly (an operator revert, a lease sweep) as a
        succeeded execution of the pseudo-playbook `playbook`."""
        now = time.time()
        execution = Execution(
            id=f"ex-{playbook.rpartition('.')[2]}-{uuid.uuid4().hex[:16]}",
            playbook=playbook,
            source=source,
            alert=alert,
            status="succeeded",
            actor=actor,
            reason=reason,
            attempts=1,
            actions=actions,
            started_at=min((a.started_at for a in actions), default=now),
            finished_at=now,
        )
        await self.finish(execution)
        return execution

    async def complete_action(self, execution_id: str, record: ActionRecord) -> None:
        """Remember that action `record.index` took effect."""
        key = self.keys.actions(execution_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, str(record.index), _encoder.encode(record))
        pipe.expire(key, self.ttl_s)
        await pipe.execute()

    async def recent(
        self,
        *,
        limit: int = 50,
        playbook: str | None = None,
        status: str | None = None,
        alertname: str | None = None,
        since: float | None = None,
        until: float | None = None,
        offset: int = 0,
    ) -> list[Execution]:
        """Finished executions, newest first: those matching every filter given, that finished
        in [since, until] (epoch seconds), skipping the first `offset` matches (paging)."""
        out: list[Execution] = []
        skipped = 0
        # Stream ids are the finish time in ms, so the time range bounds the scan itself.
        last = str(int(until * 1000)) if until is not None else "+"
        low = str(int(since * 1000)) if since is not None else "-"
        while len(out) < limit:
            batch: Any = await self.redis.xrevrange(
                self.keys.executions, max=last, min=low, count=max(limit + offset, 100)
            )
            if not batch:
                break
            for record in await self._records(batch):
                if (
                    (playbook is None or record.playbook == playbook)
                    and (status is None or record.status == status)
                    and (alertname is None or record.alert.labels.get("alertname") == alertname)
                ):
                    if skipped < offset:
                        skipped += 1
                    else:
                        out.append(record)
            last = "(" + batch[-1][0]
        return out[:limit]

    async def _records(self, batch: list[Any]) -> list[Execution]:
        """The records a batch of stream entries names, in order, in one round trip; entries
        whose record expired are left out. Entries written before records were stored once
        carry the record itself."""
        pipe = self.redis.pipeline(transaction=False)  # GETs, not MGET: Cluster slots differ
        for _, fields in batch:
            if "record" not in fields and valid_id(fields.get("id", "")):
                pipe.get(self.keys.execution(fields["id"]))
        stored: Any = iter(await pipe.execute())
        out: list[Execution] = []
        for _, fields in batch:
            if "record" in fields:
                raw = fields["record"]
            elif valid_id(fields.get("id", "")):
                raw = next(stored)
            else:
                continue
            if raw:
                out.append(_exec_decoder.decode(raw))
        return out
