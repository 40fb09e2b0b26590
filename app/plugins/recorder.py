"""The action recorder: every action a playbook takes is guarded, performed once, recorded.

Each call gets an index within its execution and the idempotency key
`{execution_id}:{index}`. Before acting, the recorder checks whether that
index already took effect in an earlier attempt (a retry, a reclaimed or
handed-back execution) and, if so, returns the recorded outcome instead of
acting twice. Side effects are write-ahead: before a non-idempotent call the
intent (a `pending` record under the same index) is persisted, the result
after it; an attempt that finds an intent without a result asks the action's
`resolve` (did the effect happen? — by restart stamp, dedup key, message
metadata) before calling again. Dry-run records what would be done; the kill
switch `autonomic.paused` and the guardrails record a refusal; a failure is
recorded (with secrets redacted) and re-raised into the playbook, unless the
action is best-effort (a notification): then the playbook goes on.
Flag leases are state, everything else is an event: inside a cooldown the events
are recorded as skipped while the leases are still taken, and releases (which
only restore baselines) run even while paused.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog

from app import metrics, tracing
from app.actions.redaction import Redactor
from app.errors import ApprovalRejected, AwaitingApproval, GuardrailRefused
from app.models import ActionRecord

Persist = Callable[[ActionRecord], Awaitable[None]]
Decisions = Callable[[int], Awaitable[dict[str, Any] | None]]
Act = Callable[[str], Awaitable[Any]]
# `resolve(key, intent)`: the result if the interrupted call took effect, None if it did not
# (then the action runs again); it raises (e.g. OutcomeUnknown) when that cannot be known.
Resolve = Callable[[str, ActionRecord], Awaitable[Any]]
_NO_SECRETS = Redactor()
log = structlog.get_logger(__name__)
# Actions that hold or restore state (the alert's flag leases); every other kind is an event.
STATE_KINDS = frozenset({"flags.set", "flags.release", "flags.release_all"})
RESTORE_KINDS = frozenset({"flags.release", "flags.release_all"})


class Recorder:
    """Runs actions in order, applying dry-run, pause and replay, and records each one."""

    def __init__(
        self,
        *,
        dry_run: bool,
        paused: bool,
        completed: dict[int, ActionRecord],
        persist: Persist | None,
        execution_id: str = "",
        redact: Redactor = _NO_SECRETS,
        decisions: Decisions | None = None,
        events_blocked: str | None = None,
    ) -> None:
        self.decisions = decisions
        self.events_blocked = events_blocked
        self.dry_run = dry_run
        self.paused = paused
        self.completed = completed
        self.persist = persist
        self.execution_id = execution_id
        self.redact = redact
        self.records: list[ActionRecord] = []
        self._next = 0

    def restart(self) -> None:
        """Begin a new attempt: indexes start over, completed actions are kept."""
        self._next = 0
        self.records = []

    async def run(
        self,
        kind: str,
        target: str,
        params: dict[str, Any],
        act: Act | None,
        *,
        unavailable: str | None = None,
        approval: str | None = None,
        idempotent: bool = False,
        resolve: Resolve | None = None,
        best_effort: bool = False,
    ) -> ActionRecord:
        """Record one action; perform it (`act(idempotency_key)`) unless dry-run, paused,
        unavailable or already done. With `approval`, an operator must approve it first.

        `idempotent` actions (flag leases) skip the write-ahead intent; `resolve` checks an
        interrupted earlier call (without one, the call is repeated under the same key, which
        the receiver deduplicates); a `best_effort` failure is recorded, not raised."""
        target = self.redact(target)  # a URL target may carry a token; records and logs never do
        index = self._next
        self._next += 1
        done = self.completed.get(index)
        same = done is not None and done.kind == kind and done.target == target
        if done is not None and same and done.status != "pending":
            self.records.append(done)
            return done
        intent = done if same else None
        record = ActionRecord(
            index=index,
            kind=kind,
            target=target,
            params=params,
            started_at=time.time(),
            best_effort=best_effort,
        )
        # An explicit approval gate is never skipped: what follows it may be state.
        if self.events_blocked and kind not in STATE_KINDS and kind != "approval":
            record.status, record.reason = "skipped", self.events_blocked
            self._finish(record, time.perf_counter())
            return record
        paused = self.paused and kind not in RESTORE_KINDS
        if approval and not (self.dry_run or paused):
            decision = await self.decisions(index) if self.decisions is not None else None
            if decision is None:
                raise AwaitingApproval(index, approval)
            record.params = {**params, "approval": decision}
            if decision.get("decision") != "approve":
                record.status, record.reason = "refused", f"approval rejected by {decision.get('by')}"
                self._finish(record, time.perf_counter())
                raise ApprovalRejected(f"{approval}: rejected by {decision.get('by')}")
        start = time.perf_counter()
        with tracing.span(f"action {kind}", action_kind=kind, action_target=target):
            if paused:
                record.status, record.reason = "refused", "autonomic.paused is set"
            elif self.dry_run:
                record.status, record.reason = "dry_run", "dry-run"
            elif unavailable or act is None:
                record.status, record.reason = "dry_run", unavailable or "not available"
            else:
                try:
                    record.result = await self._perform(record, act, intent, resolve, idempotent)
                except GuardrailRefused as exc:
                    record.status, record.reason = "refused", self.redact(str(exc))
                except Exception as exc:
                    record.status, record.error = "failed", self.redact(f"{type(exc).__name__}: {exc}")
                    if not best_effort:
                        self._finish(record, start)
                        raise
                    # A notification must never stop what follows it (a page above all).
                    log.warning("best-effort action failed", kind=kind, target=target, error=record.error)
        self._finish(record, start)
        if record.status in ("ok", "refused") or (best_effort and record.status == "failed"):
            self.completed[index] = record  # a retry in this process must not act again either
            # Idempotent actions (flag leases) may safely run again; persisting them would
            # only cost a round trip. The others are remembered before the playbook goes on.
            if self.persist is not None and not idempotent:
                await self.persist(record)
        return record

    async def _perform(
        self,
        record: ActionRecord,
        act: Act,
        intent: ActionRecord | None,
        resolve: Resolve | None,
        idempotent: bool,
    ) -> Any:
        key = f"{self.execution_id}:{record.index}"
        if idempotent:
            return await act(key)
        if intent is not None:
            # An earlier attempt stopped inside this call: find out whether it took effect.
            record.reason = "resumed an interrupted call"
            if resolve is not None:
                found = await resolve(key, intent)
                if found is not None:
                    record.reason = "took effect before the interruption"
                    return found
        elif self.persist is not None:
            pending = msgspec.structs.replace(record, status="pending", params={**record.params, "key": key})
            await self.persist(pending)
            self.completed[record.index] = pending
        return await act(key)

    @property
    def failures(self) -> list[ActionRecord]:
        """Best-effort actions that failed in this attempt (the execution still succeeds)."""
        return [r for r in self.records if r.status == "failed" and r.best_effort]

    def _finish(self, record: ActionRecord, start: float) -> None:
        record.duration_ms = round((time.perf_counter() - start) * 1000, 3)
        metrics.counter(metrics.ACTIONS, record.kind, record.status).inc()
        latency = metrics.histogram(metrics.ACTION_LATENCY, record.kind, record.status)
        latency.observe(record.duration_ms / 1000)
        self.records.append(record)
