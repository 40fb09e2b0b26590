"""Bounded retries for calls to outside systems: exponential backoff with full jitter,
honouring Retry-After, via tenacity. Adapters classify their client's failures
into `Retryable` (429, 5xx, 409, network errors, timeouts) or `PermanentError`;
after the last try the failure becomes an `ActionFailed` (a PermanentError), so
the execution fails and its entry is dead-lettered.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type, stop_after_attempt

from app.errors import PermanentError

T = TypeVar("T")
MAX_RETRY_AFTER = 60.0


class Retryable(Exception):
    """A failure worth another try, after `retry_after` seconds if the server said so."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ActionFailed(PermanentError):
    """An outside call still failed after its last try."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one outside call."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form), None if absent or unparsable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def retryable_status(
    status: int, message: str, retry_after: str | None = None, *, also: tuple[int, ...] = ()
) -> Retryable | None:
    """The one mapping of an HTTP status to a retry: 429, any 5xx and the statuses in `also`
    (409 for Kubernetes) are `Retryable`, after `retry_after` (a Retry-After header) when the
    server gave one; any other status is None (the caller decides what it means)."""
    if status == 429 or status >= 500 or status in also:
        return Retryable(message, retry_after=parse_retry_after(retry_after))
    return None


async def call(policy: RetryPolicy, what: str, fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn` with retries on `Retryable`; raise `ActionFailed` naming `what` after the last try."""
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=policy.wait,
            retry=retry_if_exception_type(Retryable),
            reraise=False,
        ):
            with attempt:
                return await fn()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise ActionFailed(f"{what} failed after {policy.attempts} tries: {last}") from None
    raise AssertionError("unreachable")  # pragma: no cover
