"""Bounded retries for outside calls: Retry-After honoured and capped, the last failure named."""

from __future__ import annotations

import pytest
from tenacity import RetryCallState

from app.actions.retry import MAX_RETRY_AFTER, ActionFailed, Retryable, RetryPolicy, call, parse_retry_after
from app.errors import PermanentError


@pytest.mark.parametrize(
    ("header", "seconds"), [(None, None), ("", None), ("3", 3.0), ("-1", 0.0), ("soon", None)]
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def _state(exc: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_waits_follow_retry_after_else_jittered_backoff() -> None:
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=4.0)
    assert policy.wait(_state(Retryable("x", retry_after=2.5), 1)) == 2.5
    assert policy.wait(_state(Retryable("x", retry_after=600), 1)) == MAX_RETRY_AFTER
    assert all(0 <= policy.wait(_state(Retryable("x"), 5)) <= 4.0 for _ in range(50))


async def test_retryable_failures_are_retried_then_reported() -> None:
    policy = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.001)
    tries: list[int] = []

    async def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise Retryable("503")
        return "ok"

    assert await call(policy, "flaky", flaky) == "ok" and len(tries) == 3

    async def down() -> str:
        raise Retryable("HTTP 503")

    with pytest.raises(ActionFailed, match="down failed after 3 tries: HTTP 503"):
        await call(policy, "down", down)


async def test_permanent_failures_are_not_retried() -> None:
    tries: list[int] = []

    async def refused() -> None:
        tries.append(1)
        raise PermanentError("HTTP 400")

    with pytest.raises(PermanentError, match="HTTP 400"):
        await call(RetryPolicy(attempts=5, base_delay=0.001), "refused", refused)
    assert len(tries) == 1
