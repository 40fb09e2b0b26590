"""Approval gates, kept durably in Redis: an execution that reaches a gated action stops,
is recorded as awaiting approval, and its queue entry is parked here. An operator's
decision (console, API or CLI) — or the timeout, which rejects — is stored per
(execution, action index) and the entry goes back to the queue; the re-run replays
what was done and finds the decision at the gate.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import msgspec
from redis.asyncio import Redis

from app.engine import queue_entry
from app.engine.executions import valid_id
from app.engine.lanes import HIGH
from app.keys import Keys

Decision = Literal["approve", "reject"]


class Pending(msgspec.Struct):
    """An execution waiting at an approval gate."""

    execution_id: str
    playbook: str
    index: int
    description: str
    requested_at: float
    deadline: float
    alertname: str
    fields: dict[str, str]


class ApprovalStore:
    """Pending approvals, decisions, and re-queueing."""

    def __init__(self, redis: Redis, keys: Keys, *, timeout_s: float) -> None:
        self.redis = redis
        self.keys = keys
        self.timeout_s = timeout_s

    def _pending(self, execution_id: str) -> str:
        return self.keys.approval(execution_id)

    def _decision(self, execution_id: str, index: int) -> str:
        return self.keys.decision(execution_id, index)

    @property
    def _index(self) -> str:
        return self.keys.approvals

    async def request(
        self,
        *,
        execution_id: str,
        playbook: str,
        index: int,
        description: str,
        alertname: str,
        fields: dict[str, str],
    ) -> Pending:
        """Park an execution at its gate (idempotent: a repeat keeps the first deadline)."""
        existing = await self.get(execution_id)
        if existing is not None and existing.index == index:
            return existing
        now = time.time()
        pending = Pending(
            execution_id, playbook, index, description, now, now + self.timeout_s, alertname, fields
        )
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self._pending(execution_id), msgspec.json.encode(pending), ex=int(self.timeout_s) + 86400)
        pipe.zadd(self._index, {execution_id: pending.deadline})
        await pipe.execute()
        return pending

    async def get(self, execution_id: str) -> Pending | None:
        """The gate an execution waits at (None for none, or an id of the wrong shape)."""
        if not valid_id(execution_id):
            return None
        raw = await self.redis.get(self._pending(execution_id))
        return msgspec.json.decode(raw, type=Pending) if raw else None

    async def pending(self) -> list[Pending]:
        """Every execution waiting for a decision, oldest deadline first."""
        ids: Any = await self.redis.zrange(self._index, 0, -1)
        found = [await self.get(i) for i in ids]
        return [p for p in found if p is not None]

    async def decision(self, execution_id: str, index: int) -> dict[str, Any] | None:
        """The decision taken at gate `index` of an execution, if any."""
        raw = await self.redis.get(self._decision(execution_id, index))
        return msgspec.json.decode(raw) if raw else None

    async def decide(
        self, execution_id: str, decision: Decision, by: str, comment: str = ""
    ) -> Pending | None:
        """Record a decision and send the execution back to the queue; None if nothing waits."""
        pending = await self.get(execution_id)
        if pending is None or not await self.redis.zrem(self._index, execution_id):
            return None  # no such gate, or another replica decided first
        record = {"decision": decision, "by": by, "comment": comment, "at": time.time()}
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self._decision(execution_id, pending.index), msgspec.json.encode(record), ex=30 * 86400)
        pipe.delete(self._pending(execution_id))
        # Parked by an older version: its field names are re-encoded in the current ones.
        fields: dict[Any, Any] = queue_entry.normalized(pending.fields)
        pipe.xadd(self.keys.lane(HIGH), fields)  # an operator decided: no wait behind a storm
        await pipe.execute()
        return pending

    async def expire_due(self) -> int:
        """Reject every gate past its deadline; return how many."""
        due: Any = await self.redis.zrangebyscore(self._index, "-inf", time.time())
        expired = 0
        for execution_id in due:
            if await self.decide(execution_id, "reject", "timeout", "no decision before the deadline"):
                expired += 1
        return expired
