"""Lease holders named for people: reads each lease's origin (app/actions/lease_origins.py)
and names its holder (app/web/readable.py) for the console, `GET /api/flags` and the
flag history (`GET /api/flags/history`, the console's timeline) alike.
"""

from __future__ import annotations

from typing import Any

from app.actions.flag_history import Change, FlagHistory, Period
from app.engine.runtime import Runtime
from app.web import readable


async def holders(runtime: Runtime, flags: list[Any]) -> dict[tuple[str, str], readable.Holder]:
    """Every lease holder of `flags` named by its alert or operator, by (flag, holder)."""
    pairs = [(lease.holder, f.name) for f in flags for lease in f.leases]
    origins = await runtime.origins.many(pairs)
    urls = getattr(runtime.settings, "alertmanager_urls", None)
    return {
        (flag, holder): readable.holder_of(holder, origins.get((holder, flag)), urls)
        for holder, flag in pairs
    }


async def history(
    runtime: Runtime, since: float, until: float
) -> tuple[list[Period], list[Change], dict[tuple[str, str], readable.Holder]]:
    """The flag periods and changes in [since, until] and their holders named, by (flag, holder)."""
    periods, changes = await FlagHistory(runtime.clients.commands, runtime.keys.flag_history).periods(
        since, until
    )
    pairs = {(p.holder, p.flag) for p in periods}
    pairs |= {
        (c.reason[len("released by ") :], c.flag) for c in changes if c.reason.startswith("released by ")
    }
    origins = await runtime.origins.many(sorted(pairs))
    urls = getattr(runtime.settings, "alertmanager_urls", None)
    named = {
        (flag, holder): readable.holder_of(holder, origins.get((holder, flag)), urls)
        for holder, flag in pairs
    }
    return periods, changes, named
