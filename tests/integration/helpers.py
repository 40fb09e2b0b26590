"""Payload builders and HTTP helpers for service-level tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import OPERATOR_TOKEN, WEBHOOK_TOKEN

WEBHOOK = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def alert(
    name: str,
    status: str = "firing",
    *,
    fingerprint: str | None = None,
    starts_at: str = "2026-11-26T10:00:00.123456789Z",
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"description": f"{name} test"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T11:00:00Z",
        "generatorURL": "",
        "fingerprint": fingerprint or uuid.uuid4().hex[:16],
    }


def payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    status = "resolved" if all(a["status"] == "resolved" for a in alerts) else "firing"
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "autonomic",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def resolved(firing: dict[str, Any]) -> dict[str, Any]:
    return {**firing, "status": "resolved", "endsAt": "2026-11-26T11:00:00Z"}


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{url}/webhooks/alertmanager", json=body, headers=headers or WEBHOOK, timeout=10)


def executions(url: str, **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/executions", params=params, headers=OPERATOR, timeout=10)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def flags(url: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{url}/api/flags", headers=OPERATOR, timeout=10)
    response.raise_for_status()
    return {f["name"]: f for f in response.json()}
