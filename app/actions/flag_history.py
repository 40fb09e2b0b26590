"""The history of flag values: every change flags.lua made, kept in a capped Redis stream
(`Keys.flag_history`), and the periods each flag held a leased value, for the console's
mitigation timeline and `GET /api/flags/history`.

Each entry is what the `{prefix}changes` message says (flag, value, reason, time) plus
the holder whose lease decides the value after the change (empty when no lease is left
and the flag is back at its baseline). A period is a run of entries with a holder; it
ends at the first entry without one. A flag already held when the window opens is found
from the entries just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

LOOKBEHIND = 2000  # entries read before the window to learn what was held when it opened


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a flag's effective value."""

    flag: str
    value: str | None
    holder: str  # whose lease decides the value after the change; "" = baseline
    reason: str
    at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class Period:
    """A time a flag held one leased value (end None: still holding)."""

    flag: str
    value: str | None
    holder: str
    start: float
    end: float | None


def _change(fields: dict[str, Any]) -> Change | None:
    try:
        value = None if fields.get("absent") == "1" else fields.get("value", "")
        return Change(
            fields["flag"], value, fields.get("held", ""), fields.get("reason", ""), int(fields["at"]) / 1000
        )
    except (KeyError, ValueError):
        return None


class FlagHistory:
    """Reads the flag-change stream."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key

    async def changes(self, since: float, until: float | None = None, *, limit: int = 20_000) -> list[Change]:
        """Changes in [since, until], oldest first."""
        high = str(int(until * 1000)) if until is not None else "+"
        raw: Any = await self.redis.xrange(self.key, min=str(int(since * 1000)), max=high, count=limit)
        return [c for _, fields in raw if (c := _change(fields)) is not None]

    async def before(self, moment: float) -> dict[str, Change]:
        """The last change of each flag in the `LOOKBEHIND` entries before `moment`."""
        raw: Any = await self.redis.xrevrange(self.key, max=f"({int(moment * 1000)}", count=LOOKBEHIND)
        last: dict[str, Change] = {}
        for _, fields in raw:
            change = _change(fields)
            if change is not None and change.flag not in last:
                last[change.flag] = change
        return last

    async def periods(self, since: float, until: float) -> tuple[list[Period], list[Change]]:
        """The leased periods overlapping [since, until] (clipped to it) and the changes in it."""
        changes = await self.changes(since, until)
        return periods_of(await self.before(since), changes, since), changes


def periods_of(opening: dict[str, Change], changes: list[Change], since: float) -> list[Period]:
    """Periods from the state when the window opened and the changes in it, by flag then time."""
    open_: dict[str, Period] = {}
    done: list[Period] = []
    for flag, change in opening.items():
        if change.holder:
            open_[flag] = Period(flag, change.value, change.holder, since, None)
    for change in changes:
        current = open_.pop(change.flag, None)
        if current is not None:
            done.append(Period(current.flag, current.value, current.holder, current.start, change.at))
        if change.holder:
            open_[change.flag] = Period(change.flag, change.value, change.holder, change.at, None)
    done.extend(open_.values())
    return sorted(done, key=lambda p: (p.flag, p.start))
