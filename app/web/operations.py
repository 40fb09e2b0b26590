"""Operator actions shared by the API and the console: manual triggers, approvals, reverts.

Each is recorded: a trigger goes through the same queue as alerts (its
execution carries the actor and reason), a revert is recorded as an
execution, and a decision at an approval gate names who took it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from pydantic import ValidationError

from app.actions.flags import check_name
from app.engine import queue_entry
from app.engine.approvals import Decision, Pending
from app.engine.runtime import Runtime
from app.engine.triggers import Trigger, execution_id, operator_holder
from app.models import ActionRecord, Alert, labels_fingerprint


class UnknownPlaybook(LookupError):
    """No playbook by that name."""


class InvalidParams(ValueError):
    """Trigger params do not fit the playbook's params model."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors))
        self.errors = errors


class NothingToRevert(LookupError):
    """The flag has no active lease."""


class TriggerRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A manual run of one playbook."""

    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    params: dict[str, Any] = {}
    dry_run: bool = False
    reason: str | None = None


async def trigger(runtime: Runtime, name: str, request: TriggerRequest, actor: str) -> str:
    """Queue a manual run of playbook `name`; return its execution id."""
    spec = runtime.registry.get(name)
    if spec is None:
        raise UnknownPlaybook(name)
    if spec.params is not None:
        try:
            spec.params.model_validate(request.params)
        except ValidationError as exc:
            errors = [dict(e) for e in exc.errors(include_url=False, include_context=False)]
            raise InvalidParams(errors) from None
    elif request.params:
        raise InvalidParams([{"loc": ["params"], "msg": f"playbook {name!r} takes no params"}])
    labels = {"alertname": request.labels.get("alertname", f"manual:{name}"), **request.labels}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    alert = Alert(
        status="firing",
        labels=labels,
        annotations=request.annotations,
        starts_at=now,
        fingerprint=labels_fingerprint(labels),
    )
    key = f"manual:{uuid.uuid4().hex}"
    meta = Trigger(
        source="manual", actor=actor, reason=request.reason, dry_run=request.dry_run, params=request.params
    )
    await runtime.queue.push(
        queue_entry.encode(key, msgspec.json.encode(alert).decode(), run=name, trigger=meta.to_meta())
    )
    return execution_id(key, name)


async def decide(
    runtime: Runtime, execution: str, decision: Decision, actor: str, comment: str = ""
) -> Pending | None:
    """Approve or reject the gate an execution waits at; None if it waits at none."""
    return await runtime.approvals.decide(execution, decision, actor, comment)


async def revert(runtime: Runtime, name: str, actor: str) -> tuple[int, str | None, str]:
    """End every lease on a flag now; record it; return (leases ended, value after, execution id)."""
    check_name(name)
    ended, value = await runtime.flags.revert(name, operator_holder(actor))
    if ended == 0:
        raise NothingToRevert(name)
    action = ActionRecord(
        index=0,
        kind="flags.revert",
        target=name,
        params={"leases_ended": ended},
        result={"effective": value},
        started_at=time.time(),
    )
    execution = await runtime.executions.record_direct(
        "autonomic.revert",
        "manual",
        Alert(status="resolved", labels={"flag": name}),
        [action],
        actor=actor,
        reason="operator revert",
    )
    return ended, value, execution.id
