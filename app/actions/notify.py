"""Outbound HTTP notifications with httpx: a timeout on every call, retries on 429/5xx/network
errors, and an `Idempotency-Key` header so the receiver can drop a repeat."""

from __future__ import annotations

from typing import Any

import httpx

from app.actions.retry import Retryable, RetryPolicy, call, retryable_status
from app.errors import PermanentError


class NotifyAdapter:
    """POSTs JSON to HTTP endpoints (the application's user-notification endpoint and others)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        policy: RetryPolicy,
        user_url: str | None = None,
        token: str | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self.user_url = user_url
        self._token = token

    async def post(self, url: str, payload: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        """POST `payload`; return the status code."""
        headers = {"Idempotency-Key": idempotency_key}
        if self._token and url == self.user_url:
            headers["Authorization"] = f"Bearer {self._token}"

        async def once() -> dict[str, Any]:
            try:
                response = await self.client.post(url, json=payload, headers=headers)
            except httpx.TransportError as exc:
                raise Retryable(f"{type(exc).__name__}: {exc}") from None
            status = response.status_code
            retry = retryable_status(status, f"HTTP {status}", response.headers.get("Retry-After"))
            if retry is not None:
                raise retry
            if response.status_code >= 400:
                raise PermanentError(f"HTTP {response.status_code}: {response.text[:200]}")
            return {"status": response.status_code}

        return await call(self.policy, f"POST {url}", once)
