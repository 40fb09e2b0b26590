"""Human durations ("90s", "15m", "2h", "1h30m", "1d", or plain seconds) as float seconds.

Shared by playbook options (cooldown, timeout, flag TTLs) and settings, so an
operator writes durations the same way everywhere.
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
