"""Finds actions a playbook called but never awaited: `ctx.flags.set(...)` without `await` makes a
coroutine that does nothing, so the mitigation silently never happens.

Simulation hands an async playbook a tracking view of its Context: every coroutine a `ctx`
method returns is remembered with the file and line that asked for it, and those still unstarted
when the playbook returns are reported (and closed, so Python does not warn about them later).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from app.plugins.facades import FlagActions, KubeActions, NotifyActions, PagerDutyActions, SlackActions

_FACADES = (FlagActions, KubeActions, PagerDutyActions, SlackActions, NotifyActions)


@dataclass
class _Call:
    what: str
    coroutine: Coroutine[Any, Any, Any]
    file: str
    line: int


class AwaitTracker:
    """Collects the coroutines a playbook got from its Context."""

    def __init__(self) -> None:
        self._calls: list[_Call] = []

    def wrap(self, ctx: Any) -> Any:
        """A view of `ctx` (or of one of its facades) that records each coroutine it hands out."""
        return _Tracking(ctx, self, "ctx")

    def never_awaited(self) -> list[str]:
        """One message per call whose coroutine never started, naming the file and line."""
        found = []
        for call in self._calls:
            if inspect.getcoroutinestate(call.coroutine) == inspect.CORO_CREATED:
                call.coroutine.close()
                found.append(f"{call.what}() was never awaited ({call.file}:{call.line})")
        return found


class _Tracking:
    def __init__(self, target: Any, tracker: AwaitTracker, path: str) -> None:
        self._target = target
        self._tracker = tracker
        self._path = path

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if isinstance(attr, _FACADES):
            return _Tracking(attr, self._tracker, f"{self._path}.{name}")
        if not inspect.iscoroutinefunction(attr):
            return attr
        tracker, what = self._tracker, f"{self._path}.{name}"

        def call(*args: Any, **kwargs: Any) -> Any:
            coroutine = attr(*args, **kwargs)
            caller = sys._getframe(1)  # the playbook line that asked for the action
            tracker._calls.append(_Call(what, coroutine, caller.f_code.co_filename, caller.f_lineno))
            return coroutine

        return call
