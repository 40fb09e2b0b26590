"""Human durations ("90s", "15m", "2h", "1h30m", "1d", or plain seconds) as float seconds, and
back: `format_duration(600)` is "10m".

Shared by playbook options (cooldown, timeout, flag TTLs) and settings, so an
operator writes durations the same way everywhere, and reads them (CLI, console,
API) in the same form.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import lru_cache

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(value: str | float | int) -> float:
    """Return `value` in seconds; raise ValueError naming the bad input."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    seconds = float(value) if isinstance(value, int | float) else _parse_text(value)
    if seconds < 0:
        raise ValueError(f"invalid duration {value!r}: must not be negative")
    return seconds


@lru_cache(maxsize=1024)  # playbooks pass the same few literals ("10m") on every run
def _parse_text(value: str) -> float:
    text = value.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    pos, seconds = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"invalid duration {value!r}: use e.g. 30s, 15m, 2h, 1h30m or seconds")
    return seconds


def format_duration(seconds: float) -> str:
    """`seconds` the way an operator writes it: 600 → "10m", 5400 → "1h30m", 0.25 → "250ms".

    The result parses back to the same value with `parse_duration` (to the millisecond).
    """
    if seconds < 0:
        raise ValueError(f"invalid duration {seconds!r}: must not be negative")
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    whole, rest_ms = divmod(millis, 1000)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest_ms:
        parts.append(f"{rest_ms}ms")
    return "".join(parts)


def parse_moment(value: str, now: float) -> float:
    """A point in time as epoch seconds, from ISO-8601 (`2026-11-27T10:00:00Z`), epoch seconds, or
    a duration meaning that long before `now` (`90m`, `1d`); raise ValueError naming the input."""
    moment = _moment(value.strip(), now)
    if moment is None or not 0 <= moment <= _LATEST:
        raise ValueError(f"invalid time {value!r}: use an age (2h), ISO-8601 or epoch seconds")
    return moment


_LATEST = 1e11  # the year 5138: anything later is a typo, and would overflow a stream id


def _moment(text: str, now: float) -> float | None:
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return number if math.isfinite(number) else None
    if re.fullmatch(f"(?:{_PART.pattern})+", text.lower()):
        return now - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):  # year 1 with a positive offset, and the like
        return None
