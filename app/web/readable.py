"""How the console shows records to people: holders named by their alert or operator,
times as ISO-8601 plus "3 min ago", durations with units, params and results as JSON.

Pure functions over plain values (no I/O), shared by the console templates and the
`/api/flags` holder fields, so the two never disagree about what a holder is called.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from app.actions.lease_origins import LeaseOrigin

# Labels that say most about an alert, shown first after its name.
_KEY_LABELS = ("severity", "namespace", "service", "job", "instance")
_SHOWN_LABELS = 3


def iso(ts: float | None) -> str:
    """Epoch seconds as ISO-8601 UTC to the second (`2026-11-27T11:20:05Z`); `-` for none."""
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def span(seconds: float) -> str:
    """A length of time in words an on-call reads at a glance: `45 s`, `59 min`, `2 h 5 min`, `3 d 4 h`."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ago(ts: float | None, now: float | None = None) -> str:
    """Relative time: `3 min ago`, `in 59 min`, `just now`; `-` for none."""
    if not ts:
        return "-"
    delta = (time.time() if now is None else now) - ts
    if abs(delta) < 1:
        return "just now"
    return f"{span(delta)} ago" if delta > 0 else f"in {span(delta)}"


def duration_ms(ms: float | None) -> str:
    """An action's duration with its unit: `0.4 ms`, `12 ms`, `1.25 s`, `2 min`."""
    if ms is None:
        return "-"
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    return span(ms / 1000)


def pretty(value: Any) -> str:
    """Params or results as indented JSON (`null` shown as such, not Python's `None`)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def key_labels(labels: dict[str, str]) -> list[tuple[str, str]]:
    """Up to three labels besides `alertname`, the telling ones (severity, namespace…) first."""
    rest = [k for k in sorted(labels) if k != "alertname"]
    ordered = [k for k in _KEY_LABELS if k in labels] + [k for k in rest if k not in _KEY_LABELS]
    return [(k, labels[k]) for k in ordered[:_SHOWN_LABELS]]


def alertmanager_link(base: str, labels: dict[str, str]) -> str:
    """Alertmanager's own page for the alert: its alert list filtered to exactly these labels."""

    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    matchers = ",".join(f"{k}={quoted(v)}" for k, v in sorted(labels.items()))
    return f"{base.rstrip('/')}/#/alerts?silenced=true&inhibited=true&filter={quote('{' + matchers + '}')}"


def web_url(url: str | None) -> str | None:
    """`url` when it is http(s), else None: a link from alert data must never run script."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


@dataclass(frozen=True, slots=True)
class Holder:
    """A lease holder as people name it."""

    raw: str
    kind: str  # "alert", "operator" or "other"
    title: str  # `CostSpike`, `dana`, or the raw holder
    detail: str  # `severity=critical · namespace=chat`, the operator's reason, or ""
    execution_id: str | None = None
    alertmanager_url: str | None = None
    generator_url: str | None = None

    @property
    def label(self) -> str:
        """One line: `CostSpike · severity=critical`, `operator dana: load test`."""
        if self.kind == "operator":
            who = "operator" if self.title == "operator" else f"operator {self.title}"
            return who + (f": {self.detail}" if self.detail else "")
        return f"{self.title} · {self.detail}" if self.detail else self.title


def holder_of(raw: str, origin: LeaseOrigin | None, alertmanager_urls: list[str] | None = None) -> Holder:
    """Name a holder from its lease origin; the raw name when the origin is unknown."""
    if raw == "operator" or raw.startswith("operator:"):
        name = raw.partition(":")[2] or "operator"
        reason = (origin.reason or "") if origin else ""
        return Holder(raw, "operator", name, reason, origin.execution_id if origin else None)
    if origin is None or not origin.alertname:
        return Holder(raw, "other", raw, "", origin.execution_id if origin else None)
    detail = " · ".join(f"{k}={v}" for k, v in key_labels(origin.labels))
    base = web_url(alertmanager_urls[0] if alertmanager_urls else origin.external_url)
    return Holder(
        raw,
        "alert",
        origin.alertname,
        detail,
        origin.execution_id,
        alertmanager_link(base, origin.labels) if base else None,
        web_url(origin.generator_url),
    )
