"""Alertmanager matcher syntax (`alertname="X", severity=~"warn|crit"`) as pure functions.

Semantics follow Alertmanager: a missing label is the empty string, regexes are
fully anchored, and a comma means "and".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Op = Literal["=", "!=", "=~", "!~"]

_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\"(?:[^\"\\]|\\.)*\")\s*(=~|!~|!=|=)\s*")
_QUOTED = re.compile(r"\"((?:[^\"\\]|\\.)*)\"\s*")
_UNQUOTED = re.compile(r"([^,}\"]*?)\s*(?=,|}|$)")
_ESCAPES = {"n": "\n", "\\": "\\", '"': '"', "t": "\t"}


@dataclass(frozen=True, slots=True)
class Matcher:
    """One `name op value` condition."""

    name: str
    op: Op
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        """True when `labels` satisfy this condition."""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for c in chars:
        out.append(_ESCAPES.get(next(chars, "\\"), "\\") if c == "\\" else c)
    return "".join(out)


def parse(text: str) -> tuple[Matcher, ...]:
    """Parse a matcher list; raise ValueError saying where it went wrong."""
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise ValueError(f"unclosed '{{' in matcher {text!r}")
        body = body[1:-1].strip()
    if not body:
        raise ValueError('empty matcher: use e.g. alertname="CostSpike" (alertname=~".+" for all)')
    matchers: list[Matcher] = []
    pos = 0
    while True:
        m = _NAME.match(body, pos)
        if not m:
            raise ValueError(f"expected 'label op value' at {body[pos:]!r} in {text!r}")
        name = _unescape(m.group(1)[1:-1]) if m.group(1).startswith('"') else m.group(1)
        op: Op = m.group(2)  # type: ignore[assignment]
        pos = m.end()
        q = _QUOTED.match(body, pos)
        if q:
            value, pos = _unescape(q.group(1)), q.end()
        else:
            u = _UNQUOTED.match(body, pos)
            if not u:
                raise ValueError(f"bad value at {body[pos:]!r} in {text!r}")
            value, pos = u.group(1), u.end()
        pattern = None
        if op in ("=~", "!~"):
            try:
                pattern = re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regex {value!r} for {name}: {exc}") from None
        matchers.append(Matcher(name, op, value, pattern))
        rest = body[pos:].lstrip()
        if not rest:
            return tuple(matchers)
        if not rest.startswith(","):
            raise ValueError(f"expected ',' at {rest!r} in {text!r}")
        pos = len(body) - len(rest) + 1
        if not body[pos:].strip():  # a trailing comma is allowed, as in Alertmanager
            return tuple(matchers)


def matches(matchers: tuple[Matcher, ...], labels: dict[str, str]) -> bool:
    """True when every matcher holds for `labels`."""
    return all(m.matches(labels) for m in matchers)
