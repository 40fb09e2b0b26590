"""Data shapes: the Alertmanager webhook payload, the Alert playbooks see, and execution records.

msgspec Structs: the webhook is decoded straight from bytes (fast, and a bad
field is reported with its JSON path); unknown fields are ignored so newer
Alertmanager versions keep working.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import msgspec

AlertStatus = Literal["firing", "resolved"]
ExecutionStatus = Literal[
    "running",
    "awaiting_approval",
    "succeeded",
    "succeeded_with_failures",
    "failed",
    "skipped",
    "rejected",
    "refused",
]
ActionStatus = Literal["ok", "dry_run", "refused", "failed", "pending", "skipped"]
Source = Literal["alertmanager", "manual", "system", "followup"]

ZERO_TIME = "0001-01-01T00:00:00Z"


class WebhookAlert(msgspec.Struct, rename="camel", frozen=True):
    """One alert as Alertmanager sends it (webhook payload version 4)."""

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: str = ZERO_TIME
    ends_at: str = ZERO_TIME
    generator_url: str = msgspec.field(default="", name="generatorURL")
    fingerprint: str = ""


class WebhookPayload(msgspec.Struct, rename="camel", frozen=True):
    """The body of `POST /webhooks/alertmanager`."""

    alerts: list[WebhookAlert]
    version: str = "4"
    status: str = ""
    receiver: str = ""
    group_key: str = ""
    truncated_alerts: int = 0
    group_labels: dict[str, str] = {}
    common_labels: dict[str, str] = {}
    common_annotations: dict[str, str] = {}
    external_url: str = msgspec.field(default="", name="externalURL")


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """An alert as playbooks see it; `fingerprint` identifies it across notifications."""

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: str = ZERO_TIME
    ends_at: str = ZERO_TIME
    generator_url: str = ""
    fingerprint: str = ""
    receiver: str = ""
    external_url: str = ""

    @property
    def name(self) -> str:
        """The `alertname` label, or an empty string."""
        return self.labels.get("alertname", "")

    @property
    def text(self) -> str:
        """What the alert says: its `description` annotation, else `summary`, else its name."""
        return self.annotations.get("description") or self.annotations.get("summary") or self.name

    @property
    def critical(self) -> bool:
        """True for `severity="critical"` (or `page`): the alerts that page on-call."""
        return self.labels.get("severity", "").lower() in ("critical", "page")

    @property
    def firing(self) -> bool:
        """True while the alert is firing."""
        return self.status == "firing"

    @property
    def started(self) -> datetime | None:
        """`startsAt` as an aware datetime, None for Alertmanager's zero time."""
        return parse_time(self.starts_at)

    @property
    def episode(self) -> str:
        """`startsAt` to the millisecond: identifies one firing episode of this alert, however
        the sender formatted the timestamp (amtool and Alertmanager round differently)."""
        return _episode(self.starts_at)

    @property
    def event_key(self) -> str:
        """Identity of this notification: (fingerprint, status, startsAt), used for dedup."""
        raw = f"{self.fingerprint}\x1f{self.status}\x1f{self.episode}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    @classmethod
    def from_webhook(cls, item: WebhookAlert, payload: WebhookPayload) -> Alert:
        """Flatten a webhook alert, computing a fingerprint when Alertmanager sent none."""
        return cls(
            status=item.status,
            labels=item.labels,
            annotations=item.annotations,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            generator_url=item.generator_url,
            fingerprint=item.fingerprint or labels_fingerprint(item.labels),
            receiver=payload.receiver,
            external_url=payload.external_url,
        )


class ActionRecord(msgspec.Struct, kw_only=True):
    """One action a playbook asked for, and what became of it."""

    index: int
    kind: str
    target: str
    params: dict[str, Any] = {}
    status: ActionStatus = "ok"
    result: Any = None
    error: str | None = None
    reason: str | None = None
    started_at: float = 0.0
    duration_ms: float = 0.0
    best_effort: bool = False


class Execution(msgspec.Struct, kw_only=True):
    """One playbook run for one alert (or manual trigger), with every action it took."""

    id: str
    playbook: str
    source: Source
    alert: Alert
    status: ExecutionStatus = "running"
    dry_run: bool = False
    actor: str | None = None
    reason: str | None = None
    params: dict[str, Any] = {}
    event_key: str = ""
    attempts: int = 0
    error: str | None = None
    skipped_reason: str | None = None
    actions: list[ActionRecord] = []
    started_at: float = 0.0
    finished_at: float | None = None
    trace_id: str | None = None

    @property
    def final(self) -> bool:
        """True once the execution can no longer change."""
        return self.status not in ("running", "awaiting_approval")


@lru_cache(maxsize=4096)
def _episode(starts_at: str) -> str:
    started = parse_time(starts_at)
    return started.strftime("%Y%m%dT%H%M%S.") + f"{started.microsecond // 1000:03d}" if started else "0"


class InvalidPayload(ValueError):
    """A webhook body that is not a valid Alertmanager payload; the message says where."""


_payload_decoder = msgspec.json.Decoder(WebhookPayload)


def decode_payload(body: bytes) -> WebhookPayload:
    """Decode an Alertmanager webhook body, or raise InvalidPayload naming the problem."""
    try:
        return _payload_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidPayload(f"invalid payload: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidPayload(f"malformed JSON: {exc}") from None
    except UnicodeDecodeError as exc:  # msgspec raises this for invalid UTF-8 inside a string
        raise InvalidPayload(f"malformed JSON: invalid UTF-8 at byte {exc.start}") from None


def labels_fingerprint(labels: dict[str, str]) -> str:
    """A stable 16-hex-digit fingerprint of a label set (for alerts sent without one)."""
    raw = "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def parse_time(value: str) -> datetime | None:
    """Parse an RFC 3339 timestamp from Alertmanager; None for its zero time or garbage."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.replace("Z", "+00:00")
    # Go emits nanoseconds; Python's parser takes at most microseconds.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


encoder = msgspec.json.Encoder()
