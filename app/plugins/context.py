"""`Context`: what a playbook acts through — the alert, its params, and guarded, recorded actions.

See `recorder.py` for the guarantees every action gets (replay instead of
repeat, dry-run, kill switch, refusals recorded) and `facades.py` for what each
of `ctx.flags`, `ctx.kube`, `ctx.pagerduty`, `ctx.slack`, `ctx.notify` does.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import structlog
from pydantic import BaseModel
from structlog.typing import FilteringBoundLogger

from app.durations import parse_duration
from app.errors import PermanentError
from app.models import ActionRecord, Alert
from app.plugins.facades import FlagActions, KubeActions, PagerDutyActions
from app.plugins.messaging import NotifyActions, SlackActions
from app.plugins.recorder import Recorder

Schedule = Callable[[str, str, float], Awaitable[dict[str, Any]]]
Logger = FilteringBoundLogger  # `ctx.log.info("event", key=value)`, `.warning`, `.bind(...)`...


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
        facade_parts: dict[str, Any],
        schedule: Schedule | None = None,
        params: BaseModel | None = None,
    ) -> None:
        self.alert = alert
        self.execution_id = execution_id
        self.playbook = playbook
        self.params = params
        self.recorder = recorder
        self.flags = flags
        self._parts = facade_parts  # the other facades are built when a playbook first uses them
        self._schedule = schedule

    @cached_property
    def kube(self) -> KubeActions:
        """Kubernetes actions."""
        return KubeActions(**self._parts)

    @cached_property
    def pagerduty(self) -> PagerDutyActions:
        """PagerDuty actions."""
        return PagerDutyActions(**self._parts)

    @cached_property
    def slack(self) -> SlackActions:
        """Slack actions."""
        return SlackActions(**self._parts)

    @cached_property
    def notify(self) -> NotifyActions:
        """HTTP notification actions."""
        return NotifyActions(**self._parts)

    @cached_property
    def log(self) -> Logger:
        """A logger bound to this playbook (and, through context, the execution and alert)."""
        log: Logger = structlog.get_logger("playbook").bind(playbook=self.playbook)
        return log

    async def act(
        self,
        kind: str,
        target: str,
        fn: Callable[[], Awaitable[Any]] | Callable[[str], Awaitable[Any]],
        *,
        best_effort: bool = False,
        **params: Any,
    ) -> ActionRecord:
        """Run a custom side effect as a recorded action (skipped in dry-run, refused while
        paused, not repeated once recorded). A `fn` taking one argument gets the action's
        idempotency key (`{execution_id}:{index}`): if a replica dies inside the call, the
        reclaiming replica calls `fn` again with the same key, so pass it on to the receiver
        (an Idempotency-Key header, a dedup id) to make the effect happen once."""
        takes_key = _positional_arity(fn) >= 1

        async def call(key: str) -> Any:
            return await (fn(key) if takes_key else fn())  # type: ignore[call-arg]

        return await self.recorder.run(kind, target, params, call, best_effort=best_effort)

    async def approval(self, description: str) -> ActionRecord:
        """Wait (durably) until an operator approves; a rejection or the timeout stops the playbook."""

        async def call(_: str) -> Any:
            return {"approved": description}

        return await self.recorder.run(
            "approval", self.playbook, {"for": description}, call, approval=description
        )

    async def follow_up(self, after: str | float, playbook: str) -> ActionRecord:
        """Run `playbook` for this alert after `after` — only if the alert is still firing then.
        Kept in Redis (survives restarts); cancelled when the alert resolves."""
        delay = parse_duration(after)
        schedule = self._schedule

        async def call(key: str) -> Any:
            if schedule is None:
                raise PermanentError("follow-ups are not available here")
            return await schedule(key, playbook, delay)

        return await self.recorder.run("followup.schedule", playbook, {"after_s": delay}, call)

    @property
    def dry_run(self) -> bool:
        """True when actions are only recorded, not performed."""
        return self.recorder.dry_run

    @property
    def actions(self) -> list[ActionRecord]:
        """Actions recorded so far in this attempt."""
        return self.recorder.records


def _positional_arity(fn: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return 0
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty)


class SyncProxy:
    """Lets a synchronous playbook (run in a thread) call the async Context as plain functions."""

    _WRAP = (FlagActions, KubeActions, PagerDutyActions, SlackActions, NotifyActions)

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
