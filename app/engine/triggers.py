"""What asked for a run and what a simulation plans: the trigger carried in a queue entry,
the deterministic execution id, and the plan of one playbook."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.models import ActionRecord, Source


def execution_id(event_key: str, playbook: str) -> str:
    """Deterministic id: the same notification and playbook always map to the same execution."""
    digest = hashlib.sha256(f"{event_key}\x1f{playbook}".encode()).hexdigest()
    return f"ex-{digest[:20]}"


def operator_holder(actor: str | None) -> str:
    """The lease holder for an operator's action: `operator:alice` for the token named `alice`, or
    just `operator` for the single-token setting (its name is `operator`)."""
    name = (actor or "").strip()
    return f"operator:{name}" if name and name != "operator" else "operator"


@dataclass
class Trigger:
    """Who asked for a run, and how."""

    source: Source = "alertmanager"
    actor: str | None = None
    reason: str | None = None
    dry_run: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    # Re-apply state only: flag leases act, every event is skipped (it already ran this episode).
    state_only: bool = False

    def to_meta(self) -> str:
        """The trigger as JSON, carried in a queue entry."""
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_meta(cls, meta: str) -> Trigger:
        """The trigger carried by a queue entry."""
        return msgspec.json.decode(meta, type=cls)


@dataclass(frozen=True)
class Plan:
    """What one playbook would do for an alert (simulation)."""

    playbook: str
    would_run: bool
    skipped_reason: str | None
    actions: list[ActionRecord]
    error: str | None = None
