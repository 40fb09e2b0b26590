"""Parsing of webhook payloads recorded from a real Alertmanager 0.25 (tests/fixtures/alertmanager)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from app.models import Alert, WebhookPayload, labels_fingerprint, parse_time

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "alertmanager").glob("*.json"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_recorded_payloads_parse(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    payload = msgspec.json.decode(path.read_bytes(), type=WebhookPayload)
    assert payload.version == "4"
    assert payload.receiver == raw["receiver"]
    assert len(payload.alerts) == len(raw["alerts"])
    for item, original in zip(payload.alerts, raw["alerts"], strict=True):
        alert = Alert.from_webhook(item, payload)
        assert alert.fingerprint == original["fingerprint"]
        assert alert.labels == original["labels"]
        assert alert.status == original["status"]
        assert alert.generator_url == ""  # amtool alerts carry an empty generatorURL
        assert alert.started is not None


def test_recorded_firing_and_resolved_share_an_episode() -> None:
    by_name: dict[str, dict[str, Alert]] = {}
    for path in FIXTURES:
        payload = msgspec.json.decode(path.read_bytes(), type=WebhookPayload)
        for item in payload.alerts:
            alert = Alert.from_webhook(item, payload)
            by_name.setdefault(alert.name, {})[alert.status] = alert
    assert by_name, "no fixtures"
    for pair in by_name.values():
        # amtool re-sends startsAt rounded to milliseconds; the episode must not change.
        assert pair["firing"].episode == pair["resolved"].episode
        assert pair["firing"].event_key != pair["resolved"].event_key
        assert parse_time(pair["firing"].ends_at) is None  # 0001-01-01 zero time


def test_unknown_fields_are_ignored_and_defaults_apply() -> None:
    body = b'{"alerts":[{"status":"firing","labels":{"alertname":"X"},"newField":{"a":1}}],"future":true}'
    payload = msgspec.json.decode(body, type=WebhookPayload)
    alert = Alert.from_webhook(payload.alerts[0], payload)
    assert alert.fingerprint == labels_fingerprint({"alertname": "X"})
    assert alert.started is None


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"alerts":[{"status":"firing","labels":{"a":1}}]}', "$.alerts[0].labels[...]"),
        (b'{"alerts":[{"status":"burning","labels":{}}]}', "$.alerts[0].status"),
        (b'{"alerts":[{"labels":{}}]}', "status"),
        (b'{"status":"firing"}', "alerts"),
    ],
)
def test_validation_errors_name_the_field(body: bytes, where: str) -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.json.decode(body, type=WebhookPayload)
    assert where in str(info.value)


def test_parse_time_handles_nanoseconds_and_zones() -> None:
    assert parse_time("2026-11-26T22:09:01.380595278Z") == datetime(
        2026, 11, 26, 22, 9, 1, 380595, tzinfo=UTC
    )
    assert parse_time("2026-11-26T23:09:01+01:00") == datetime(2026, 11, 26, 22, 9, 1, tzinfo=UTC)
    assert parse_time("garbage") is None
    assert parse_time("0001-01-01T00:00:00Z") is None


def test_labels_fingerprint_is_order_independent() -> None:
    assert labels_fingerprint({"a": "1", "b": "2"}) == labels_fingerprint({"b": "2", "a": "1"})
    assert labels_fingerprint({"a": "1"}) != labels_fingerprint({"a": "2"})
