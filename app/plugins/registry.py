"""The `@playbook` decorator, the `PlaybookFn` shape it checks, and the registry of specs.

The decorator validates at import time (callable shape, options) and marks the function
with its frozen `PlaybookSpec`; it registers nothing by itself. A `Registry` is filled
explicitly, pluggy-style: `registry.register(module)` collects the playbooks a module
(and its submodules) defines, `registry.register(fn)` one function. The loader does this
for every playbook file and entry-point module, so loading twice in one process gives the
same playbooks. Inside `with use_registry(registry):` the decorator also registers into
`registry` as it runs (for playbooks declared in a test's body).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel

from app import matchers as matcher_syntax
from app.durations import parse_duration
from app.errors import PlaybookError
from app.matchers import Matcher

if TYPE_CHECKING:
    from app.models import Alert
    from app.plugins.context import Context

On = Literal["firing", "resolved", "any", "manual"]
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
SPECS_ATTR = "__autonomic_playbooks__"  # the specs the decorator attached to a function


class PlaybookFn(Protocol):
    """What `@playbook` decorates: `async def name(alert: Alert, ctx: Context) -> None`
    (or a plain `def`, run in a thread). mypy rejects any other signature."""

    def __call__(self, alert: Alert, ctx: Context, /) -> Awaitable[None] | None: ...


PlaybookFnT = TypeVar("PlaybookFnT", bound=PlaybookFn)


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
    approval: bool = False

    def applies(self, alert: Alert) -> bool:
        """True when this playbook should run for `alert` (status and labels)."""
        if self.on == "manual" or (self.on != "any" and self.on != alert.status):
            return False
        return matcher_syntax.matches(self.matchers, alert.labels)


def specs_of(obj: object) -> tuple[PlaybookSpec, ...]:
    """The specs `@playbook` attached to `obj` (empty for anything else)."""
    try:
        specs = getattr(obj, SPECS_ATTR, ())
    except Exception:  # an object whose __getattr__ fails is no playbook
        return ()
    return specs if isinstance(specs, tuple) else ()


# Every spec the decorator made, by the module it was applied in, in definition order. A
# module Python imports once (an entry point) keeps its playbooks here for every later load.
_defined: dict[str, list[PlaybookSpec]] = {}


def forget(module_name: str) -> None:
    """Drop what was defined in `module_name` (before a playbook file is imported again)."""
    _defined.pop(module_name, None)


def module_specs(module: ModuleType) -> list[PlaybookSpec]:
    """Playbooks defined in `module` or its submodules, in definition order, each once: every
    `@playbook` applied there (including ones made in a loop or shadowed by a later definition
    of the same name), then any other decorated function a submodule it holds defines."""
    root = module.__name__
    found: list[PlaybookSpec] = [
        spec
        for name, specs in list(_defined.items())
        if name == root or name.startswith(root + ".")
        for spec in specs
    ]
    seen_fns: set[int] = {id(spec.fn) for spec in found}
    seen_modules: set[str] = set()

    def walk(mod: ModuleType) -> None:
        seen_modules.add(mod.__name__)
        for value in list(vars(mod).values()):
            if isinstance(value, ModuleType):
                name = value.__name__
                if name.startswith(root + ".") and name not in seen_modules:
                    walk(value)
                continue
            owner = getattr(value, "__module__", None)
            if id(value) in seen_fns or not (owner == root or str(owner).startswith(root + ".")):
                continue  # imported from elsewhere: registered where it is defined
            specs = specs_of(value)
            if specs:
                seen_fns.add(id(value))
                found.extend(specs)

    walk(module)
    return found


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

    def register(self, obj: ModuleType | PlaybookFn, source: str = "") -> list[PlaybookSpec]:
        """Register the playbooks of a module (and its submodules) or one decorated function;
        `source` (a file, an entry point) replaces where each says it was defined. Returns them."""
        if isinstance(obj, ModuleType):
            specs = module_specs(obj)
        else:
            specs = list(specs_of(obj))
            if not specs:
                raise PlaybookError(f"{obj!r} is not a playbook (decorate it with @playbook(...))")
        if source:
            specs = [replace(spec, source=source) for spec in specs]
        for spec in specs:
            self.add(spec)
        return specs

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


_current: ContextVar[Registry | None] = ContextVar("autonomic_registry", default=None)


@contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """While the block runs, `@playbook` also registers each playbook into `registry`."""
    token = _current.set(registry)
    try:
        yield registry
    finally:
        _current.reset(token)


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
    approval: bool = False,
) -> Callable[[PlaybookFnT], PlaybookFnT]:
    """Declare a playbook: `@playbook(match='alertname="X"', on="firing", cooldown="15m")`.

    `match`: Alertmanager matchers (may be omitted for `on="manual"`); `on`: the alert status
    it runs for, or "manual" (only when named by a follow-up or an operator); `cooldown`: the
    minimum time between its events per (playbook, alert labels); `dry_run`: record actions
    without performing them; `timeout`: per attempt; `params`: a pydantic model validating a
    manual trigger's parameters (`ctx.params`); `name`: instead of the function's name;
    `approval`: the whole playbook waits for an operator's approval before it runs."""
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
    if not isinstance(approval, bool):
        raise PlaybookError(f"approval must be True or False, not {approval!r}")

    def register(func: PlaybookFnT) -> PlaybookFnT:
        if not callable(func):
            raise PlaybookError(f"@playbook must decorate a function, not {func!r}")
        _check_signature(func)
        spec_name = name or str(getattr(func, "__name__", ""))
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
            source=getattr(func, "__module__", None) or "",
            is_async=is_async,
            approval=approval,
        )
        try:
            setattr(func, SPECS_ATTR, (*specs_of(func), spec))
        except AttributeError:  # a callable object that takes no attributes
            raise PlaybookError(f"@playbook cannot mark {func!r}; decorate a function") from None
        # Where the decorator was applied: a playbook made in a loop, or shadowed by a later
        # definition of the same name, is still found there (and a duplicate name reported).
        _defined.setdefault(sys._getframe(1).f_globals.get("__name__", ""), []).append(spec)
        registry = _current.get()
        if registry is not None:
            registry.add(spec)
        return func

    return register
