"""Finds actions a playbook called but never awaited: `ctx.flags.set(...)` without `await` makes a
coroutine that does nothing, so the mitigation silently never happens.

Two ways: `unawaited_calls` reads an async playbook's source for a bare `ctx.<facade>.<action>(…)`
statement (what `autonomic playbooks` reports), and simulation hands the playbook a tracking view
of its Context: every coroutine a `ctx` method returns is remembered with the file and line that
asked for it, and those still unstarted when the playbook returns are reported (and closed, so
Python does not warn about them later). The second also catches calls the source check cannot see.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from app.plugins.facades import FlagActions, KubeActions, PagerDutyActions
from app.plugins.messaging import NotifyActions, SlackActions

_FACADES = (FlagActions, KubeActions, PagerDutyActions, SlackActions, NotifyActions)
_FACADE_NAMES = {"flags", "kube", "pagerduty", "slack", "notify"}
_CTX_ACTIONS = {"act", "approval", "follow_up"}


def unawaited_calls(fn: Any) -> list[str]:
    """`file:line: ctx.x.y() is not awaited` for each bare action call in an async playbook."""
    if not inspect.iscoroutinefunction(fn):
        return []  # sync playbooks call ctx through a proxy that waits for them
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        file = inspect.getsourcefile(fn) or "?"
    except (OSError, TypeError):
        return []
    tree = ast.parse(source)
    function = tree.body[0]
    if not isinstance(function, ast.AsyncFunctionDef) or len(function.args.args) < 2:
        return []
    ctx = function.args.args[1].arg
    first = fn.__code__.co_firstlineno  # the source, like the code, starts at the first decorator
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            what = _action_name(node.value.func, ctx)
            if what:
                line = first - 1 + node.lineno
                found.append(f"{file}:{line}: {what}() is not awaited")
    return found


def _action_name(func: ast.expr, ctx: str) -> str | None:
    """`ctx.flags.set` for a call of a facade action or `ctx.act`/`approval`/`follow_up`."""
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value
    if isinstance(owner, ast.Name) and owner.id == ctx and func.attr in _CTX_ACTIONS:
        return f"{ctx}.{func.attr}"
    if (
        isinstance(owner, ast.Attribute)
        and isinstance(owner.value, ast.Name)
        and owner.value.id == ctx
        and owner.attr in _FACADE_NAMES
    ):
        return f"{ctx}.{owner.attr}.{func.attr}"
    return None


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
