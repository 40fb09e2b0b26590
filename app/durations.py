"""Human durations ("90s", "15m", "2h", "1h30m", "1d", or plain seconds) as float seconds, and
back: `format_duration(600)` is "10m".

Shared by playbook options (cooldown, timeout, flag TTLs) and settings, so an
operator writes durations the same way everywhere, and reads them (CLI, console,
API) in the same form.
"""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(value: str | float | int) -> float:
    """Return `value` in seconds; raise ValueError naming the bad input."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for m in _PART.finditer(text):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
            if pos != len(text) or not text:
                raise ValueError(
                    f"invalid duration {value!r}: use e.g. 30s, 15m, 2h, 1h30m or seconds"
                ) from None
    if seconds < 0:
        raise ValueError(f"invalid duration {value!r}: must not be negative")
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
