"""The flag catalogue: which type each known flag's plain string value has, for typed readers (OFREP).

Redis holds every flag as a string. Readers that want typed values (OpenFeature
over OFREP compares the JSON type with the type the application asked for)
need to know the type: the built-in playbooks' flags are declared here; any
other flag is inferred from its value — `true`/`false` are booleans, integers
and decimals are numbers, anything else is a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.actions.flags import PAUSED_FLAG, TRUTHY

FlagType = Literal["boolean", "string", "integer", "float"]
Value = bool | int | float | str
_FALSY = frozenset({"0", "false", "no", "off"})
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class Entry:
    """A declared flag (or family: `prefix` ends with a dot) and its value type."""

    name: str
    type: FlagType
    description: str
    family: bool = False


CATALOGUE: tuple[Entry, ...] = (
    Entry("llm.model_tier", "string", "economy: route to the cheaper model tier"),
    Entry("cache.mode", "string", "aggressive: longer cache TTLs, looser semantic match"),
    Entry("ratelimit.factor", "float", "multiply every rate limit"),
    Entry("ratelimit.user.", "float", "multiply one user's limits (ratelimit.user.<user_id>)", family=True),
    Entry(PAUSED_FLAG, "boolean", "Autonomic's kill switch"),
)
_EXACT = {e.name: e for e in CATALOGUE if not e.family}
_FAMILIES = tuple(e for e in CATALOGUE if e.family)


def declared_names() -> list[str]:
    """The catalogue's single (non-family) flag names."""
    return list(_EXACT)


def declared_type(name: str) -> FlagType | None:
    """The catalogue's type for `name`, or None for a custom flag."""
    entry = _EXACT.get(name)
    if entry is not None:
        return entry.type
    for family in _FAMILIES:
        if name.startswith(family.name):
            return family.type
    return None


def infer(raw: str) -> Value:
    """A custom flag's value: `true`/`false` (any case) as booleans, numbers as numbers, else the string."""
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INTEGER.fullmatch(raw.strip()):
        return int(raw)
    if _FLOAT.fullmatch(raw.strip()):
        value = float(raw)
        if value == value and value not in (float("inf"), float("-inf")):
            return value
    return raw


def typed(name: str, raw: str) -> Value:
    """`raw` converted to the flag's catalogue type (a value that does not parse stays a string)."""
    kind = declared_type(name)
    if kind is None:
        return infer(raw)
    text = raw.strip().lower()
    if kind == "boolean":
        if text in TRUTHY:
            return True
        return False if text in _FALSY else raw
    if kind == "string":
        return raw
    try:
        number = float(raw) if kind == "float" else int(raw)
    except ValueError:
        return raw
    return number if number == number and abs(number) != float("inf") else raw
