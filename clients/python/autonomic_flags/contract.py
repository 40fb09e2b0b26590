"""The wire contract between Autonomic and the applications that read its flags, written once.

Autonomic (the server) writes flags to Redis under this schema; this package,
raw-Redis readers in any language and the server's OFREP endpoint read them.
The server keeps its own copy of these names (it does not import this
package); a contract test in the server's suite checks that both agree, so a
change here without the server (or the reverse) fails CI.

- `{prefix}{name}`: the plain string value to use; absent = the application's default.
- `{prefix}{name}:leases`: hash of holder → lease JSON `{"v", "exp", "at"}` plus the
  `~baseline` field (`{"v": value}` or `{"absent": true}`); the server's bookkeeping.
- `{prefix}changes`: pub/sub channel; one JSON message `{"flag", "value", "reason", "at"}`
  per change of a value (`value` null = the flag became absent; `at` in epoch ms).
- Names match `[a-z0-9_.-]+`, at most 200 characters; the default prefix is `flags:`.
- Boolean words: `1/true/yes/on` are true and `0/false/no/off` false, in any case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

DEFAULT_PREFIX = "flags:"
NAME_PATTERN = r"[a-z0-9_.-]+"
NAME_MAX_LENGTH = 200
NAME_RULE = f"use {NAME_PATTERN} (max {NAME_MAX_LENGTH})"
CHANGES_SUFFIX = "changes"
LEASES_SUFFIX = ":leases"
BASELINE_FIELD = "~baseline"
LEASE_FIELDS = ("v", "exp", "at", "ttl")
MESSAGE_FIELDS = ("flag", "value", "reason", "at")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

_NAME = re.compile(NAME_PATTERN)


def valid_name(name: str) -> bool:
    """True if `name` is a legal flag name."""
    return isinstance(name, str) and len(name) <= NAME_MAX_LENGTH and _NAME.fullmatch(name) is not None


def value_key(prefix: str, name: str) -> str:
    """The key holding the flag's value."""
    return prefix + name


def leases_key(prefix: str, name: str) -> str:
    """The hash of the flag's leases and baseline (the server's bookkeeping)."""
    return prefix + name + LEASES_SUFFIX


def changes_channel(prefix: str) -> str:
    """The pub/sub channel every change is published on."""
    return prefix + CHANGES_SUFFIX


def parse_bool(text: str) -> bool | None:
    """`true/1/yes/on` → True, `false/0/no/off` → False (any case), anything else → None."""
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


@dataclass(frozen=True, slots=True)
class Change:
    """One message of the changes channel."""

    flag: str
    value: str | None
    reason: str = ""
    at: int = 0


def parse_message(data: str | bytes) -> Change | None:
    """The change a `{prefix}changes` message announces, or None if it is malformed."""
    try:
        message = json.loads(data)
        flag, value = message["flag"], message.get("value")
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(flag, str) or not (value is None or isinstance(value, str)):
        return None
    reason, at = message.get("reason", ""), message.get("at", 0)
    return Change(
        flag,
        value,
        reason if isinstance(reason, str) else "",
        at if isinstance(at, int) and not isinstance(at, bool) else 0,
    )
