"""The lease sweeper: end expired flag leases within seconds (not only at the value key's TTL),
restoring baselines, and record each sweep that changed something as an execution."""

from __future__ import annotations

import time
from typing import Any, Protocol

from app.actions.flags import FlagStore
from app.models import ActionRecord, Alert, Source


class DirectRecorder(Protocol):
    """Where the sweep is recorded (app/engine/executions.py `ExecutionStore`; jobs sit below
    the engine, so they name only what they call)."""

    async def record_direct(
        self, playbook: str, source: Source, alert: Alert, actions: list[ActionRecord]
    ) -> object: ...


async def sweep(flags: FlagStore, executions: DirectRecorder) -> dict[str, Any]:
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
