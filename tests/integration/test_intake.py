"""Every answer of the webhook intake, and dedup under concurrent duplicate POSTs."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

import httpx
import pytest
import redis

from tests.conftest import OPERATOR_TOKEN, WEBHOOK_TOKEN
from tests.integration.helpers import WEBHOOK, alert, payload, post
from tests.support.procs import RedisServer, Service, wait_for


@pytest.fixture
def svc(start_service: Callable[..., Service]) -> Service:
    return start_service(AUTONOMIC_MAX_BODY_BYTES="4096")


def test_accepts_bearer_and_basic_password(svc: Service) -> None:
    assert post(svc.url, payload(alert("X"))).status_code == 202
    basic = base64.b64encode(f"alertmanager:{WEBHOOK_TOKEN}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
    assert post(svc.url, payload(alert("X")), headers).status_code == 202


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong",
        f"Bearer {WEBHOOK_TOKEN}x",
        "Basic !!!",
        f"Token {WEBHOOK_TOKEN}",
        "Basic " + base64.b64encode(b"user:nope").decode(),
    ],
)
def test_rejects_bad_auth_with_401(svc: Service, authorization: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    response = post(svc.url, payload(alert("X")), headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_operator_token_may_also_post(svc: Service) -> None:
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"}
    assert post(svc.url, payload(alert("X")), headers).status_code == 202


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "malformed JSON"),
        (b'{"alerts": [{"status": "firing", "labels": {"a": 1}}]}', "$.alerts[0].labels"),
        (b'{"alerts": [{"status": "exploding", "labels": {}}]}', "$.alerts[0].status"),
        (b'{"version": "4"}', "alerts"),
        (b"[]", "Expected `object`"),
        (b"\xff\xfe", "malformed JSON"),
    ],
)
def test_bad_payload_is_400_naming_the_field(svc: Service, body: bytes, detail: str) -> None:
    response = httpx.post(f"{svc.url}/webhooks/alertmanager", content=body, headers=WEBHOOK)
    assert response.status_code == 400
    assert detail in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_non_json_content_type_is_415(svc: Service, content_type: str) -> None:
    headers = {"Authorization": WEBHOOK["Authorization"], "Content-Type": content_type}
    response = httpx.post(f"{svc.url}/webhooks/alertmanager", content=b"{}", headers=headers)
    assert response.status_code == 415


def test_body_over_the_limit_is_413(svc: Service) -> None:
    big = payload(*(alert("X", note="y" * 100) for _ in range(40)))
    assert len(json.dumps(big)) > 4096
    assert post(svc.url, big).status_code == 413

    def chunks():  # no Content-Length: the limit holds while streaming
        yield json.dumps(big).encode()

    response = httpx.post(f"{svc.url}/webhooks/alertmanager", content=chunks(), headers=WEBHOOK)
    assert response.status_code == 413


def test_empty_alert_list_is_accepted(svc: Service) -> None:
    assert post(svc.url, payload()).json() == {"accepted": 0, "duplicates": 0}


def test_grouped_payload_counts_each_alert(svc: Service) -> None:
    alerts = [alert("X") for _ in range(5)]
    assert post(svc.url, payload(*alerts)).json() == {"accepted": 5, "duplicates": 0}
    assert post(svc.url, payload(*alerts[:3], alert("X"))).json() == {"accepted": 1, "duplicates": 3}


def test_concurrent_duplicates_are_accepted_once(svc: Service, sync_redis: redis.Redis, ns: str) -> None:
    body = payload(alert("CostSpike"))

    async def storm() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{svc.url}/webhooks/alertmanager", json=body, headers=WEBHOOK)
                    for _ in range(50)
                )
            )

    responses = asyncio.run(storm())
    assert {r.status_code for r in responses} == {202}
    assert sum(r.json()["accepted"] for r in responses) == 1
    assert sum(r.json()["duplicates"] for r in responses) == 49
    wait_for(lambda: sync_redis.xlen(f"{ns}executions") == 1, what="one execution")


def test_redis_down_answers_503_and_readyz_fails_then_recovers(
    start_service: Callable[..., Service], ns: str
) -> None:
    private = RedisServer().start()
    try:
        svc = start_service(AUTONOMIC_REDIS_URL=private.url, AUTONOMIC_REDIS_TIMEOUT="0.5")
        client = redis.Redis.from_url(private.url, decode_responses=True)
        first = alert("CostSpike")
        assert post(svc.url, payload(first)).status_code == 202
        wait_for(lambda: client.get(f"{ns}flags:cache.mode") == "aggressive", what="processed before outage")

        private.stop()
        during = alert("UserBudgetExceeded", user_id="u-7")
        response = post(svc.url, payload(during))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert httpx.get(f"{svc.url}/readyz").status_code == 503
        assert httpx.get(f"{svc.url}/healthz").status_code == 200

        private.start()  # same port, empty data: Redis here keeps nothing on disk
        wait_for(lambda: httpx.get(f"{svc.url}/readyz").status_code == 200, what="ready again")
        # Alertmanager retries the 503'd notification: it must be processed now.
        assert post(svc.url, payload(during)).status_code == 202
        wait_for(lambda: client.get(f"{ns}flags:ratelimit.user.u-7") == "0.1", what="processed after outage")
        client.close()
    finally:
        private.stop()


def test_full_queue_answers_503_with_retry_after_and_adds_nothing(
    start_service: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    svc = start_service(AUTONOMIC_QUEUE_MAX_LEN="10")
    response = post(svc.url, payload(*(alert("X") for _ in range(11))))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert sync_redis.xlen(f"{ns}alerts") == 0
    assert post(svc.url, payload(*(alert("X") for _ in range(5)))).json() == {"accepted": 5, "duplicates": 0}
