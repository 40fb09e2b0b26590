"""The lease sweeper: end expired flag leases within seconds (not only at the value key's TTL),
restoring baselines, and record each sweep that changed something as an execution."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from app.actions.flags import FlagStore
from app.models import ActionRecord, Alert, Execution

if TYPE_CHECKING:
    from app.engine.executions import ExecutionStore


async def sweep(flags: FlagStore, executions: ExecutionStore) -> dict[str, Any]:
    """Run one sweep; return the flags it touched and their value after."""
    changed = await flags.sweep()
    if changed:
        now = time.time()
        await executions.finish(
            Execution(
                id=f"ex-sweep-{uuid.uuid4().hex[:16]}",
                playbook="autonomic.sweeper",
                source="system",
                alert=Alert(status="resolved", labels={"job": "lease_sweeper"}),
                status="succeeded",
                attempts=1,
                actions=[
                    ActionRecord(
                        index=i, kind="flags.expire", target=name, result={"effective": value}, started_at=now
                    )
                    for i, (name, value) in enumerate(sorted(changed.items()))
                ],
                started_at=now,
                finished_at=time.time(),
            )
        )
    return {"expired": changed}
