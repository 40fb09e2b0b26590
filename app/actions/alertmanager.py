"""Alertmanager's API v2, read to learn which alerts fire: the source of truth for the reconciler
and for follow-ups.

`GET /api/v2/alerts?active=true&silenced=true&inhibited=true` on every configured
Alertmanager at once (an HA pair gossips, so either member answers for both; asking
all of them and taking the union means a member that just restarted with an empty
state cannot make an alert look resolved). A member that does not answer in time is
left out; when none answers, the caller learns that nothing is known (None) and
must change nothing.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import structlog

from app.settings import Settings

log = structlog.get_logger(__name__)
QUERY = {"active": "true", "silenced": "true", "inhibited": "true"}


class AlertmanagerUnreachable(Exception):
    """No configured Alertmanager answered."""


class AlertmanagerClient:
    """Reads the active alerts of one Alertmanager cluster (one or more URLs)."""

    def __init__(self, urls: list[str], client: httpx.AsyncClient) -> None:
        self.urls = urls
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertmanagerClient | None:
        """A client for `AUTONOMIC_ALERTMANAGER_URLS` (Basic or Bearer auth, CA bundle), or None."""
        if not settings.alertmanager_urls:
            return None
        headers: dict[str, str] = {"Accept": "application/json"}
        auth: httpx.BasicAuth | None = None
        if settings.alertmanager_token is not None:
            headers["Authorization"] = f"Bearer {settings.alertmanager_token.get_secret_value()}"
        elif settings.alertmanager_username and settings.alertmanager_password is not None:
            auth = httpx.BasicAuth(
                settings.alertmanager_username, settings.alertmanager_password.get_secret_value()
            )
        verify: ssl.SSLContext | bool = True
        if settings.alertmanager_ca_bundle is not None:
            verify = ssl.create_default_context(cafile=str(settings.alertmanager_ca_bundle))
        client = httpx.AsyncClient(
            headers=headers, auth=auth, verify=verify, timeout=settings.action_timeout, follow_redirects=False
        )
        return cls(settings.alertmanager_urls, client)

    async def _fetch(self, url: str) -> dict[str, dict[str, Any]]:
        response = await self.client.get(f"{url}/api/v2/alerts", params=QUERY)
        response.raise_for_status()
        body: Any = response.json()
        if not isinstance(body, list):
            raise ValueError("GET /api/v2/alerts did not return a list")
        items = [item for item in body if isinstance(item, dict) and "fingerprint" in item]
        return {str(item["fingerprint"]): item for item in items}

    async def active(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Every active alert (silenced and inhibited included) in any answering Alertmanager,
        by fingerprint (as the API returns it: labels, annotations, startsAt, status.state, ...),
        and one line per member that did not answer; AlertmanagerUnreachable when none answered."""
        results = await asyncio.gather(*(self._fetch(url) for url in self.urls), return_exceptions=True)
        active: dict[str, dict[str, Any]] = {}
        answered = False
        problems = []
        for url, result in zip(self.urls, results, strict=True):
            if isinstance(result, BaseException):
                problems.append(f"{url}: {type(result).__name__}: {result}"[:300])
            else:
                answered = True
                for fp, item in result.items():
                    active.setdefault(fp, item)
        if not answered:
            raise AlertmanagerUnreachable("; ".join(problems))
        return active, problems

    async def is_active(self, fingerprint: str) -> bool | None:
        """True if some Alertmanager reports the alert active, False if none does, None if none
        answered (then the caller cannot tell)."""
        try:
            active, _ = await self.active()
        except AlertmanagerUnreachable:
            return None
        return fingerprint in active

    async def close(self) -> None:
        """Release the HTTP connection pool."""
        await self.client.aclose()
