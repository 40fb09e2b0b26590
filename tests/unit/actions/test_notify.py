"""HTTP notifications: the token goes only to the user endpoint, 5xx is retried under the same
Idempotency-Key, 4xx is final."""

from __future__ import annotations

import httpx
import pytest

from app.actions.notify import NotifyAdapter
from app.actions.retry import ActionFailed, RetryPolicy
from app.errors import PermanentError
from tests.support.fakes import NotifyFake

POLICY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


def _adapter(notify: NotifyFake) -> NotifyAdapter:
    return NotifyAdapter(
        httpx.AsyncClient(timeout=2), policy=POLICY, user_url=f"{notify.url}/notify", token=notify.token
    )


async def test_a_5xx_is_retried_under_the_same_key(notify: NotifyFake) -> None:
    adapter = _adapter(notify)
    notify.fail_next(2, 503)
    assert await adapter.post(f"{notify.url}/notify", {"m": 1}, idempotency_key="ex-1:0") == {"status": 202}
    assert [r["headers"]["idempotency-key"] for r in notify.requests] == ["ex-1:0"] * 3
    notify.fail_next(3, 500)
    with pytest.raises(ActionFailed, match="after 3 tries"):
        await adapter.post(f"{notify.url}/notify", {"m": 2}, idempotency_key="ex-2:0")
    await adapter.client.aclose()


async def test_the_token_goes_only_to_the_user_endpoint(notify: NotifyFake) -> None:
    adapter = _adapter(notify)
    with pytest.raises(PermanentError, match="HTTP 401"):  # another URL of the same host: no token
        await adapter.post(f"{notify.url}/elsewhere", {"m": 1}, idempotency_key="k")
    assert "authorization" not in notify.requests[-1]["headers"]
    assert len(notify.requests) == 1  # a 4xx is not retried
    await adapter.client.aclose()
