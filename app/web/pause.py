"""`GET/POST/DELETE /api/pause`: the kill switch for operators (viewers may read it).

Pausing and resuming are recorded as executions (who, why); resuming re-applies at
once what the alerts refused while paused should hold (the reconciler would within
one interval anyway).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.exceptions import ClientException
from litestar.params import JSONBody

from app import metrics
from app.durations import parse_duration
from app.engine.pause import PauseState
from app.engine.runtime import Runtime
from app.models import ActionRecord, Alert
from app.web.auth import actor_of, operator, reader
from app.web.deps import RuntimeDep

MAX_REASON = 500


class PauseRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Why to pause, and optionally for how long (`30m`, `2h`; default: until resumed)."""

    reason: str
    for_: str | None = msgspec.field(default=None, name="for")


async def pause(runtime: Runtime, reason: str, actor: str, duration: str | None) -> PauseState:
    """Pause (shared with the console); ValueError for a bad reason or duration."""
    reason = "".join(c for c in reason if c.isprintable()).strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValueError(f"reason must be 1 to {MAX_REASON} printable characters")
    seconds = parse_duration(duration) if duration else None
    if seconds is not None and seconds <= 0:
        raise ValueError("for must be a positive duration")
    state = await runtime.pause.pause(reason, actor, seconds)
    metrics.PAUSED.set(1)
    await _record(runtime, "pause", actor, reason, {"for_s": seconds})
    return state


async def resume(runtime: Runtime, actor: str) -> PauseState:
    """Resume (shared with the console) and re-apply what was refused meanwhile."""
    before = await runtime.pause.resume(actor)
    metrics.PAUSED.set(0)
    await _record(runtime, "resume", actor, "operator resume", {"was_paused": before.paused})
    await runtime.reconciler.reapply()
    return await runtime.pause.get()


async def _record(runtime: Runtime, kind: str, actor: str, reason: str, params: dict[str, Any]) -> None:
    action = ActionRecord(
        index=0, kind=f"autonomic.{kind}", target="autonomic.paused", params=params, started_at=time.time()
    )
    await runtime.executions.record_direct(
        f"autonomic.{kind}",
        "manual",
        Alert(status="firing" if kind == "pause" else "resolved", labels={"flag": "autonomic.paused"}),
        [action],
        actor=actor,
        reason=reason,
    )


class PauseController(Controller):
    """The kill switch."""

    path = "/api/pause"
    tags = ["api"]

    @get("/", guards=[reader])
    async def get_pause(self, runtime: RuntimeDep) -> PauseState:
        """Whether Autonomic is paused, by whom, why and until when."""
        return await runtime.pause.get()

    @post("/", guards=[operator], status_code=200)
    async def set_pause(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], data: JSONBody[PauseRequest]
    ) -> PauseState:
        """Pause every new action (recorded `refused`, no cooldown taken); releases still run."""
        try:
            return await pause(runtime, data.reason, actor_of(request), data.for_)
        except ValueError as exc:
            raise ClientException(str(exc)) from None

    @delete("/", guards=[operator], status_code=200)
    async def clear_pause(self, runtime: RuntimeDep, request: Request[Any, Any, Any]) -> PauseState:
        """Resume; alerts refused while paused are mitigated again at once."""
        return await resume(runtime, actor_of(request))
