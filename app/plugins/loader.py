"""Discover playbooks: every `*.py` in the playbook directories, then the entry-point group.

Each file is imported under a private module name, then its playbooks are registered
into the registry we return (`Registry.register(module)`); an entry-point module is
imported (once per process, as Python does) and registered the same way, so every
load finds the same playbooks. Any failure (syntax error, import error, invalid
declaration, duplicate name) stops start-up with a `PlaybookError` naming the file
and the problem.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import structlog

from app.errors import PlaybookError
from app.plugins.registry import Registry, forget, module_specs

ENTRY_POINT_GROUP = "autonomic.playbooks"
log = structlog.get_logger(__name__)


def _where(exc: BaseException, path: Path) -> str:
    """The line in `path` where `exc` was raised, when the traceback passes through it."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f":{exc.lineno}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename) == path:
            return f":{frame.lineno}"
    return ""


def _line_of(exc: PlaybookError, module: ModuleType) -> str:
    """`:line` of the playbook a duplicate-name error is about, when it is in `module`."""
    for spec in reversed(module_specs(module)):
        if f"name {spec.name!r}" in str(exc):
            code = getattr(spec.fn, "__code__", None)
            return f":{code.co_firstlineno}" if code is not None else ""
    return ""


def load_file(path: Path, registry: Registry) -> int:
    """Import one playbook file into `registry`; return how many playbooks it declared."""
    path = path.resolve()
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:8]
    module_name = f"autonomic_playbooks.{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PlaybookError(f"{path}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    forget(module_name)  # this file loaded before: its playbooks are defined anew
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except PlaybookError as exc:
        sys.modules.pop(module_name, None)
        raise PlaybookError(f"{path}{_where(exc, path)}: {exc}") from None
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise PlaybookError(f"{path}{_where(exc, path)}: {type(exc).__name__}: {exc}") from exc
    try:
        return len(registry.register(module, str(path)))
    except PlaybookError as exc:  # a duplicate name: point at the second definition
        raise PlaybookError(f"{path}{_line_of(exc, module)}: {exc}") from None


def load_directories(directories: Iterable[Path], registry: Registry) -> None:
    """Load every `*.py` (not starting with `_`) of each directory, sorted by name."""
    for directory in directories:
        if not directory.is_dir():
            raise PlaybookError(f"{directory}: playbook directory does not exist")
        for path in sorted(directory.glob("*.py")):
            if path.name.startswith("_"):
                continue
            count = load_file(path, registry)
            if count == 0:
                log.warning("playbook file declares no playbook", file=str(path))


def load_entry_points(registry: Registry) -> None:
    """Register the playbooks of every module of the `autonomic.playbooks` entry-point group
    (imported on the first load; a later load in the same process registers them again)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        label = f"entry point {ep.name!r} ({ep.value})"
        try:
            loaded = ep.load()
            module = loaded if isinstance(loaded, ModuleType) else sys.modules[loaded.__module__]
            registry.register(module, label)
        except PlaybookError as exc:
            raise PlaybookError(f"{label}: {exc}") from None
        except Exception as exc:
            raise PlaybookError(f"{label}: {type(exc).__name__}: {exc}") from exc


def load(directories: Iterable[Path], *, use_entry_points: bool = True) -> Registry:
    """Build a fresh registry from `directories` and (optionally) installed packs."""
    registry = Registry()
    load_directories(directories, registry)
    if use_entry_points:
        load_entry_points(registry)
    return registry
