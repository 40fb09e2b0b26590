"""app.actions.retry.retryable_status: the one HTTP status → retry mapping every adapter uses."""

from __future__ import annotations

import pytest

from app.actions.retry import Retryable, retryable_status


@pytest.mark.parametrize("status", [429, 500, 502, 503, 599])
def test_429_and_5xx_are_retried_after_the_servers_delay(status: int) -> None:
    retry = retryable_status(status, f"HTTP {status}", "7")
    assert isinstance(retry, Retryable)
    assert (str(retry), retry.retry_after) == (f"HTTP {status}", 7.0)


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 422])
def test_other_statuses_are_left_to_the_caller(status: int) -> None:
    assert retryable_status(status, "x", "7") is None


def test_extra_statuses_and_an_unparsable_retry_after() -> None:
    retry = retryable_status(409, "conflict", "soon", also=(409,))
    assert isinstance(retry, Retryable) and retry.retry_after is None
    assert retryable_status(503, "x").retry_after is None  # type: ignore[union-attr]
