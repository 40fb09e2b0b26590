"""The `@playbook` decorator and the registry of frozen playbook specs it fills.

The decorator validates at import time (callable shape, options, duplicate
names) and registers into the *current* registry: the loader activates a
fresh one while importing playbook files, and tests do the same with
`use_registry`. The decorated function is returned unchanged.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel

from app import matchers as matcher_syntax
from app.durations import parse_duration
from app.errors import PlaybookError
from app.matchers import Matcher

if TYPE_CHECKING:
    from app.models import Alert

On = Literal["firing", "resolved", "any", "manual"]
F = TypeVar("F", bound=Callable[..., Any])
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class PlaybookSpec:
    """Everything known about one playbook, fixed at import time."""

    name: str
    fn: Callable[..., Any]
    match: str
    matchers: tuple[Matcher, ...]
    on: On = "firing"
    cooldown: float | None = None
    dry_run: bool = False
    timeout: float | None = None
    params: type[BaseModel] | None = None
    description: str = ""
    source: str = ""
    is_async: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def applies(self, alert: Alert) -> bool:
        """True when this playbook should run for `alert` (status and labels)."""
        if self.on == "manual" or (self.on != "any" and self.on != alert.status):
            return False
        return matcher_syntax.matches(self.matchers, alert.labels)


class Registry:
    """Playbook specs by name, in registration order."""

    def __init__(self) -> None:
        self._specs: dict[str, PlaybookSpec] = {}

    def add(self, spec: PlaybookSpec) -> None:
        """Register `spec`; a second playbook of the same name is an error."""
        if spec.name in self._specs:
            first = self._specs[spec.name].source or "another module"
            raise PlaybookError(f"duplicate playbook name {spec.name!r} (first defined in {first})")
        self._specs[spec.name] = spec

    def get(self, name: str) -> PlaybookSpec | None:
        """The spec named `name`, if any."""
        return self._specs.get(name)

    def match(self, alert: Alert) -> list[PlaybookSpec]:
        """Specs that apply to `alert`, in registration order."""
        return [spec for spec in self._specs.values() if spec.applies(alert)]

    def __iter__(self) -> Iterator[PlaybookSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)


default_registry = Registry()
_current: ContextVar[Registry] = ContextVar("autonomic_registry", default=default_registry)
_source: ContextVar[str] = ContextVar("autonomic_playbook_source", default="")


@contextmanager
def use_registry(registry: Registry, source: str = "") -> Iterator[Registry]:
    """Make `registry` the one `@playbook` registers into (and name the file being loaded)."""
    reg_token = _current.set(registry)
    src_token = _source.set(source)
    try:
        yield registry
    finally:
        _current.reset(reg_token)
        _source.reset(src_token)


def _check_signature(fn: Callable[..., Any]) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise PlaybookError(f"cannot inspect the signature of {fn!r}: {exc}") from None
    positional = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [
        p
        for p in sig.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if len(positional) < 2 or len(required) > 2:
        raise PlaybookError(f"playbook {fn.__name__!r} must take exactly (alert, ctx), not {sig}")


def playbook(
    fn: Callable[..., Any] | None = None,
    *,
    match: str | None = None,
    on: On = "firing",
    cooldown: str | float | None = None,
    dry_run: bool = False,
    timeout: str | float | None = None,
    params: type[BaseModel] | None = None,
    name: str | None = None,
    **extra: Any,
) -> Callable[[F], F]:
    """Declare a playbook: `@playbook(match='alertname="X"', on="firing", cooldown="15m")`."""
    if fn is not None:
        name_of = getattr(fn, "__name__", fn)
        raise PlaybookError(f"use @playbook(match=...) with keyword options, not bare @playbook: {name_of!r}")
    if on not in ("firing", "resolved", "any", "manual"):
        raise PlaybookError(f"on must be 'firing', 'resolved', 'any' or 'manual', not {on!r}")
    if match is None and on == "manual":
        match = ""  # run only when named: by a follow-up or an operator
    elif not isinstance(match, str):
        raise PlaybookError("@playbook needs match='label=\"value\"' (Alertmanager matcher syntax)")
    try:
        parsed = matcher_syntax.parse(match) if match else ()
    except ValueError as exc:
        raise PlaybookError(f"bad match {match!r}: {exc}") from None
    try:
        cooldown_s = parse_duration(cooldown) if cooldown is not None else None
        timeout_s = parse_duration(timeout) if timeout is not None else None
    except ValueError as exc:
        raise PlaybookError(str(exc)) from None
    if timeout_s is not None and timeout_s <= 0:
        raise PlaybookError("timeout must be positive")
    if params is not None and not (isinstance(params, type) and issubclass(params, BaseModel)):
        raise PlaybookError(f"params must be a pydantic BaseModel subclass, not {params!r}")
    if not isinstance(dry_run, bool):
        raise PlaybookError(f"dry_run must be True or False, not {dry_run!r}")
    unknown = set(extra) - {"approval"}
    if unknown:
        raise PlaybookError(f"unknown @playbook option(s): {', '.join(sorted(unknown))}")

    def register(func: F) -> F:
        if not callable(func):
            raise PlaybookError(f"@playbook must decorate a function, not {func!r}")
        _check_signature(func)
        spec_name = name or func.__name__
        if not _NAME.fullmatch(spec_name):
            raise PlaybookError(f"playbook name {spec_name!r} must match [A-Za-z0-9_.-]+")
        is_async = inspect.iscoroutinefunction(func)
        if not is_async and inspect.isasyncgenfunction(func):
            raise PlaybookError(f"playbook {spec_name!r} is an async generator; use async def")
        spec = PlaybookSpec(
            name=spec_name,
            fn=func,
            match=match,
            matchers=parsed,
            on=on,
            cooldown=cooldown_s,
            dry_run=dry_run,
            timeout=timeout_s,
            params=params,
            description=inspect.getdoc(func) or "",
            source=_source.get() or getattr(func, "__module__", ""),
            is_async=is_async,
            extra=dict(extra),
        )
        _current.get().add(spec)
        return func

    return register
