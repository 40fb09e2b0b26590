"""The CLI's HTTP client for a running Autonomic: one place for URL, token and error handling."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An API call failed; the message is one line for the user."""


class Client:
    """Thin wrapper over httpx with the operator's token."""

    def __init__(self, url: str, token: str | None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a successful call; ApiError with the server's reason otherwise."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.url}: {type(exc).__name__}: {exc}") from None
        if response.status_code == 401:
            raise ApiError("unauthorized: set --token or AUTONOMIC_TOKEN to the operator (or viewer) token")
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.text
            except ValueError:
                detail = response.text
            raise ApiError(f"{response.status_code}: {detail}"[:500])
        return response.json() if response.content else None
