"""`Context`: what a playbook acts through. Every action is guarded and recorded.

Each call gets an index within its execution. Before acting, the recorder
checks whether that index already took effect in an earlier attempt (a
reclaimed or retried execution) and, if so, returns the recorded outcome
instead of acting twice. Dry-run records what would be done; the kill switch
`autonomic.paused` and the guardrails record a refusal. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from pydantic import BaseModel

from app import metrics, tracing
from app.actions.flags import FlagStore, check_name, encode_value
from app.durations import parse_duration
from app.errors import GuardrailRefused, PermanentError
from app.models import ActionRecord, Alert

Persist = Callable[[ActionRecord], Awaitable[None]]


class Recorder:
    """Runs actions in order, applying dry-run, pause and replay, and records each one."""

    def __init__(
        self,
        *,
        dry_run: bool,
        paused: bool,
        completed: dict[int, ActionRecord],
        persist: Persist | None,
    ) -> None:
        self.dry_run = dry_run
        self.paused = paused
        self.completed = completed
        self.persist = persist
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
        act: Callable[[], Awaitable[Any]] | None,
        *,
        unavailable: str | None = None,
    ) -> ActionRecord:
        """Record one action and perform it unless dry-run, paused, unavailable or already done."""
        index = self._next
        self._next += 1
        done = self.completed.get(index)
        if done is not None and done.kind == kind and done.target == target:
            self.records.append(done)
            return done
        record = ActionRecord(index=index, kind=kind, target=target, params=params, started_at=time.time())
        start = time.perf_counter()
        with tracing.span(f"action {kind}", action_kind=kind, action_target=target):
            if self.paused:
                record.status, record.reason = "refused", "autonomic.paused is set"
            elif self.dry_run:
                record.status, record.reason = "dry_run", "dry-run"
            elif unavailable or act is None:
                record.status, record.reason = "dry_run", unavailable or "not available"
            else:
                try:
                    record.result = await act()
                except GuardrailRefused as exc:
                    record.status, record.reason = "refused", str(exc)
                except Exception as exc:
                    record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
                    self._finish(record, start)
                    raise
        self._finish(record, start)
        if record.status in ("ok", "refused"):
            self.completed[index] = record  # a retry in this process must not act again either
            if self.persist is not None:
                await self.persist(record)
        return record

    def _finish(self, record: ActionRecord, start: float) -> None:
        record.duration_ms = round((time.perf_counter() - start) * 1000, 3)
        metrics.ACTION_LATENCY.labels(record.kind, record.status).observe(record.duration_ms / 1000)
        self.records.append(record)


class FlagActions:
    """`ctx.flags`: leases on feature flags, held by the alert (or the operator for manual runs)."""

    def __init__(
        self, store: FlagStore, recorder: Recorder, *, holder: str, tombstone: str, default_ttl: float
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._holder = holder
        self._tombstone = tombstone
        self._default_ttl = default_ttl

    async def get(self, name: str) -> str | None:
        """The flag's effective value now (None when absent)."""
        return await self._store.get(name)

    async def set(
        self, name: str, value: str | bool | int | float, ttl: str | float | None = None
    ) -> ActionRecord:
        """Hold `name` at `value` until the alert resolves or `ttl` passes (default 1h)."""
        check_name(name)
        text = encode_value(value)
        ttl_s = parse_duration(ttl) if ttl is not None else self._default_ttl
        if ttl_s <= 0:
            raise PermanentError(f"flag TTL must be positive, not {ttl!r}")

        async def act() -> dict[str, Any]:
            outcome = await self._store.set(
                name, text, ttl_s=ttl_s, holder=self._holder, tombstone=self._tombstone
            )
            if not outcome.applied:
                raise GuardrailRefused(outcome.refused_reason or "refused")
            return {"effective": outcome.value, "expires_at_ms": outcome.expires_at_ms}

        params = {"value": text, "ttl_s": ttl_s, "holder": self._holder}
        return await self._recorder.run("flags.set", name, params, act)

    async def release(self, name: str) -> ActionRecord:
        """End this holder's lease on `name` now."""
        check_name(name)

        async def act() -> dict[str, Any]:
            return {"effective": await self._store.release(name, self._holder)}

        return await self._recorder.run("flags.release", name, {"holder": self._holder}, act)


class PendingAdapter:
    """An outside system not configured here: its calls are recorded as dry-run with the reason."""

    def __init__(self, system: str, recorder: Recorder, reason: str) -> None:
        self._system = system
        self._recorder = recorder
        self._reason = reason
        self._warned = False

    def _warn(self) -> None:
        if not self._warned:
            structlog.get_logger(__name__).warning(
                "action recorded as dry-run", system=self._system, reason=self._reason
            )
            self._warned = True

    async def _record(self, kind: str, target: str, params: dict[str, Any]) -> ActionRecord:
        self._warn()
        return await self._recorder.run(kind, target, params, None, unavailable=self._reason)


class SlackActions(PendingAdapter):
    """`ctx.slack`: messages to Slack channels."""

    async def post(self, channel: str, text: str) -> ActionRecord:
        """Post `text` to `channel`."""
        return await self._record("slack.post", channel, {"text": text})


class NotifyActions(PendingAdapter):
    """`ctx.notify`: outbound HTTP notifications (e.g. the application's user-notification endpoint)."""

    async def post(self, url: str, payload: dict[str, Any]) -> ActionRecord:
        """POST `payload` as JSON to `url`."""
        return await self._record("notify.post", url, {"payload": payload})

    async def user(self, user_id: str, kind: str, message: str) -> ActionRecord:
        """Tell one end user something through the application's notification endpoint."""
        return await self._record("notify.user", user_id, {"kind": kind, "message": message})


class Context:
    """Everything a playbook may use: the alert, its params, and the guarded action adapters."""

    def __init__(
        self,
        *,
        alert: Alert,
        execution_id: str,
        playbook: str,
        recorder: Recorder,
        flags: FlagActions,
        slack: SlackActions,
        notify: NotifyActions,
        params: BaseModel | None = None,
    ) -> None:
        self.alert = alert
        self.execution_id = execution_id
        self.playbook = playbook
        self.params = params
        self.recorder = recorder
        self.flags = flags
        self.slack = slack
        self.notify = notify
        self.log = structlog.get_logger("playbook").bind(playbook=playbook)

    async def act(
        self, kind: str, target: str, fn: Callable[[], Awaitable[Any]], **params: Any
    ) -> ActionRecord:
        """Run a custom side effect as a recorded, idempotent action (skipped in dry-run,
        refused while paused, not repeated when a reclaimed execution runs again)."""
        return await self.recorder.run(kind, target, params, fn)

    @property
    def dry_run(self) -> bool:
        """True when actions are only recorded, not performed."""
        return self.recorder.dry_run

    @property
    def actions(self) -> list[ActionRecord]:
        """Actions recorded so far in this attempt."""
        return self.recorder.records


class SyncProxy:
    """Lets a synchronous playbook (run in a thread) call the async Context as plain functions."""

    _WRAP = (FlagActions, PendingAdapter)

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if isinstance(attr, self._WRAP):
            return SyncProxy(attr, self._loop)
        if inspect.iscoroutinefunction(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                return asyncio.run_coroutine_threadsafe(attr(*args, **kwargs), self._loop).result()

            return call
        return attr
