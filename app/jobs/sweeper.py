"""The lease sweeper: end expired flag leases within seconds (not only at the value key's TTL),
restoring baselines, and record each sweep that changed something as an execution."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from app.actions.flags import FlagStore
from app.models import ActionRecord, Alert

if TYPE_CHECKING:
    from app.engine.executions import ExecutionStore


async def sweep(flags: FlagStore, executions: ExecutionStore) -> dict[str, Any]:
    """Run one sweep; return the flags it touched and their value after."""
    changed = await flags.sweep()
    if changed:
        now = time.time()
        actions = [
            ActionRecord(
                index=i, kind="flags.expire", target=name, result={"effective": value}, started_at=now
            )
            for i, (name, value) in enumerate(sorted(changed.items()))
        ]
        await executions.record_direct(
            "autonomic.sweeper", "system", Alert(status="resolved", labels={"job": "lease_sweeper"}), actions
        )
    return {"expired": changed}
