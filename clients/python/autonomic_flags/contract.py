"""The wire contract between Autonomic and the applications that read its flags, written once.

Autonomic (the server) writes flags to Redis under this schema; this package,
raw-Redis readers in any language and the server's OFREP endpoint read them.
The server keeps its own copy of these names (it does not import this
package); a contract test in the server's suite checks that both agree, so a
change here without the server (or the reverse) fails CI.

- `{prefix}{name}`: the plain string value to use; absent = the application's default.
- `{prefix}{name}:leases`: hash of holder → lease JSON `{"v", "exp", "at"}` plus the
  `~baseline` field (`{"v": value}` or `{"absent": true}`); the server's bookkeeping.
- `{prefix}changes`: pub/sub channel; one JSON message `{"flag", "value", "reason", "at",
  "held", "holder", "exp"}` per change of a value (`value` null = the flag became absent; `at`
  in epoch ms; `held` the live leases after the change, `holder` the newest one's holder and
  `exp` the latest expiry in epoch ms, both null when `held` is 0). Readers must accept
  messages without the last three: changes outside the lease script (the kill switch) and
  earlier servers send only the first four.
- Names match `[a-z0-9_.-]+`, at most 200 characters; the default prefix is `flags:`.
- Boolean words: `1/true/yes/on` are true and `0/false/no/off` false, in any case.
- Free text inside a name (the user id of `ratelimit.user.<user_id>`) is encoded with
  `name_part`: `[a-z0-9.-]` stay, `_` becomes `__`, any other UTF-8 byte `_xx`.
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
MESSAGE_FIELDS = ("flag", "value", "reason", "at", "held", "holder", "exp")
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
    held: int | None = None  # None: the message did not say (an older server)
    holder: str | None = None
    exp: int | None = None


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
    held, holder, exp = _integer(message.get("held")), message.get("holder"), _integer(message.get("exp"))
    return Change(
        flag,
        value,
        reason if isinstance(reason, str) else "",
        _integer(at) or 0,
        held,
        holder if held and isinstance(holder, str) else None,
        exp if held else None,
    )


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# User ids (and other free text) inside flag names: a reversible encoding into the name rule.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_HEX = frozenset("0123456789abcdef")


def name_part(value: str) -> str:
    """`value` (a user id, say) as part of a flag name, reversibly: `[a-z0-9.-]` stay, `_` becomes
    `__`, and every other byte of its UTF-8 form becomes `_` and two lower-case hex digits
    (`Alice.Bob@x.io` → `_41lice._42ob_40x.io`). `decode_name_part` reverses it."""
    out = []
    for char in value:
        if char == "_":
            out.append("__")
        elif char in _PLAIN:
            out.append(char)
        else:
            out.extend(f"_{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def decode_name_part(part: str) -> str:
    """The value `name_part` encoded; ValueError if `part` is not such an encoding."""
    raw, i = bytearray(), 0
    while i < len(part):
        if part[i] != "_":
            raw += part[i].encode()
            i += 1
        elif part[i + 1 : i + 2] == "_":
            raw += b"_"
            i += 2
        else:
            pair = part[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise ValueError(f"not an encoded flag name part: {part!r}")
            raw.append(int(pair, 16))
            i += 3
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise ValueError(f"not an encoded flag name part: {part!r}") from None
