"""The queue entry: the one encoding of a work-queue stream item, and every way one is written.

An entry is a flat stream item; its fields, named here once (the constants below):

- `KEY` (`k`): the event key (execution ids derive from it);
- `ALERT` (`a`): the alert, as JSON (`app.models.Alert`);
- `TRACEPARENT` (`tp`): the W3C trace context of the webhook that brought it ('' for none);
- `RUN` (`run`): the one playbook to run (follow-ups, manual triggers, approvals); absent:
  every matching one;
- `TRIGGER` (`meta`): who asked for the run, as JSON (`app.engine.triggers.Trigger`);
  absent: an Alertmanager notification.

Upgrades in two steps. Entries are written in the short names every released version
reads, so a replica of an earlier version meets nothing it cannot read during a rolling
upgrade (it would fail such an entry without acknowledging it, and dead-letter it after
`MAX_DELIVERIES`). This version also reads the long names (`key`, `alert`, `traceparent`,
`trigger`: `LONG_NAMES`), so the version that starts writing them can roll out over it.

The ways in, all built here: `encode` (manual triggers, approval gates, hand-back), `dead`
(dead-lettering), `SCRIPT_FIELDS` (the field names intake.lua, followups.lua and reapply.lua
write entries with, passed as ARGV) and `flat` (a whole entry built here, passed as ARGV to
reconcile.lua, relapse.lua and readopt.lua).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.lanes import NORMAL

KEY = "k"
ALERT = "a"
TRACEPARENT = "tp"
RUN = "run"
TRIGGER = "meta"
# The long names a later version writes, and the field each one is.
LONG_NAMES = {"key": KEY, "alert": ALERT, "traceparent": TRACEPARENT, "trigger": TRIGGER}
# The names scripts write entries with, passed to them as ARGV in this order (or its first few).
SCRIPT_FIELDS = (KEY, ALERT, TRACEPARENT, RUN, TRIGGER)


def encode(
    key: str, alert: str, traceparent: str = "", *, run: str = "", trigger: str = ""
) -> dict[str, str]:
    """The stream fields of an entry: event key, alert JSON, trace context, the playbook to `run`
    ('' for every matching one) and the trigger JSON ('' for an Alertmanager notification)."""
    fields = {KEY: key, ALERT: alert, TRACEPARENT: traceparent}
    if run:
        fields[RUN] = run
    if trigger:
        fields[TRIGGER] = trigger
    return fields


def normalized(fields: Mapping[str, str]) -> dict[str, str]:
    """`fields` in the names this version writes (an entry parked at an approval gate by
    a version that wrote the long names)."""
    return {LONG_NAMES.get(name, name): value for name, value in fields.items()}


def flat(fields: Mapping[str, str]) -> list[str]:
    """The fields as `name, value, ...`, for a script's ARGV (it XADDs them as they are)."""
    return [part for item in fields.items() for part in item]


@dataclass(frozen=True, slots=True)
class Entry:
    """One queued item: stream id, event key, alert JSON, trace context, deliveries, for
    follow-ups and manual triggers the playbook to `run` (otherwise: every matching one),
    the trigger JSON (`meta`) and the lane (stream) it was read from."""

    id: str
    key: str
    alert: str
    traceparent: str
    deliveries: int = 1
    run: str = ""
    meta: str = ""
    lane: str = NORMAL

    @property
    def fields(self) -> dict[Any, Any]:
        """The stream fields, for re-queueing or dead-lettering."""
        return encode(self.key, self.alert, self.traceparent, run=self.run, trigger=self.meta)


def decode(entry_id: str, fields: Mapping[str, str], deliveries: int = 1, lane: str = NORMAL) -> Entry:
    """The entry stored as `fields` (short or long names) under stream id `entry_id`."""
    get = fields.get
    return Entry(
        entry_id,
        get(KEY) or get("key", ""),
        get(ALERT) or get("alert", ""),
        get(TRACEPARENT) or get("traceparent", ""),
        deliveries,
        get(RUN, ""),
        get(TRIGGER) or get("trigger", ""),
        lane,
    )


def dead(entry: Entry, reason: str, **extra: str) -> dict[str, str]:
    """The dead-letter stream fields of `entry`: its fields, stream id, lane and why it failed."""
    return {**entry.fields, "id": entry.id, "lane": entry.lane, "reason": reason, **extra}
