"""PagerDuty Events API v2 through the `pagerduty` package (the maintained successor of pdpyras).

The client is synchronous, so each call runs in a worker thread. Its own
retry loop is disabled (it would retry 429 forever, ignoring Retry-After);
our bounded policy retries 429, 5xx and network errors instead. The dedup key
is derived from the alert fingerprint, so a repeated trigger updates the same
incident and the resolve finds it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pagerduty
from pagerduty.errors import Error as PagerDutyError
from pagerduty.errors import HttpError

from app.actions.retry import Retryable, RetryPolicy, call, retryable_status
from app.errors import PermanentError

SEVERITIES = {
    "critical": "critical",
    "page": "critical",
    "high": "error",
    "error": "error",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "info": "info",
    "low": "info",
    "none": "info",
}


def severity_of(labels: dict[str, str], default: str = "error") -> str:
    """PagerDuty severity from the alert's `severity` label."""
    return SEVERITIES.get(labels.get("severity", "").lower(), default)


def dedup_key(fingerprint: str) -> str:
    """The incident key of one alert: stable across repeats, firing and resolve."""
    return f"autonomic-{fingerprint}"


class _Client(pagerduty.EventsApiV2Client):
    """Events client without internal retries or sleeps: our policy decides."""

    max_network_attempts = 0
    sleep_timer = 0.0


class PagerDutyAdapter:
    """Trigger, acknowledge and resolve incidents."""

    def __init__(
        self,
        routing_key: str,
        *,
        policy: RetryPolicy,
        events_url: str = "https://events.pagerduty.com",
        timeout: float = 10.0,
        verify: Any = True,
    ) -> None:
        self.policy = policy
        self._client = _Client(routing_key, base_url=events_url.rstrip("/"), verify=verify)
        self._client.timeout = timeout  # type: ignore[assignment]
        self._client.retry = {429: 1}  # one immediate re-send at most, then our back-off applies

    async def _send(self, what: str, action: str, key: str, **properties: Any) -> dict[str, Any]:
        def once_sync() -> str:
            return str(self._client.send_event(action, dedup_key=key, **properties))

        async def once() -> dict[str, Any]:
            try:
                returned = await asyncio.to_thread(once_sync)
            except HttpError as exc:
                response: httpx.Response | None = exc.response
                status = response.status_code if response is not None else 0
                header = response.headers.get("Retry-After") if response is not None else None
                retry = retryable_status(status, f"pagerduty HTTP {status}", header)
                if retry is not None:
                    raise retry from None
                raise PermanentError(f"pagerduty refused the event: HTTP {status}") from None
            except (PagerDutyError, httpx.TransportError) as exc:
                raise Retryable(f"pagerduty unreachable: {type(exc).__name__}") from None
            return {"dedup_key": returned}

        return await call(self.policy, what, once)

    async def trigger(
        self,
        *,
        key: str,
        summary: str,
        source: str,
        severity: str,
        custom_details: dict[str, Any],
        links: list[dict[str, str]],
    ) -> dict[str, Any]:
        """Open (or update) the incident `key`."""
        payload = {
            "summary": summary[:1024],
            "source": source[:255],
            "severity": severity,
            "custom_details": custom_details,
        }
        props: dict[str, Any] = {"payload": payload}
        if links:
            props["links"] = links
        return await self._send("pagerduty trigger", "trigger", key, **props)

    async def acknowledge(self, key: str) -> dict[str, Any]:
        """Acknowledge the incident `key`."""
        return await self._send("pagerduty acknowledge", "acknowledge", key)

    async def resolve(self, key: str) -> dict[str, Any]:
        """Resolve the incident `key`."""
        return await self._send("pagerduty resolve", "resolve", key)
