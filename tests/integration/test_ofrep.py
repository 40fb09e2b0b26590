"""OFREP served by the real service over HTTP: values, bulk + ETag, auth, bad input, read-only, memory://."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import OPERATOR_TOKEN, WEBHOOK_TOKEN
from tests.integration.helpers import alert, payload, post, resolved
from tests.support.procs import RedisServer, Service, wait_for

FLAGS_TOKEN = "test-flags-token-0123456789abc"
VIEWER_TOKEN = "test-viewer-token-0123456789ab"
FLAGS = {"Authorization": f"Bearer {FLAGS_TOKEN}"}


@pytest.fixture
def svc(start_service: Callable[..., Service]) -> Service:
    return start_service(AUTONOMIC_FLAGS_TOKEN=FLAGS_TOKEN, AUTONOMIC_VIEWER_TOKEN=VIEWER_TOKEN)


def evaluate(
    svc: Service, key: str, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{svc.url}/ofrep/v1/evaluate/flags/{key}",
        json={"context": {"targetingKey": "user-1"}} if body is None else body,
        headers=FLAGS if headers is None else headers,
        timeout=10,
    )


def bulk(svc: Service, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{svc.url}/ofrep/v1/evaluate/flags",
        json={"context": {}},
        headers={**FLAGS, **(headers or {})},
        timeout=10,
    )


def cost_spike() -> dict[str, Any]:
    return alert("CostSpike", severity="warning")


def test_a_mitigation_is_served_typed_with_metadata_and_ends_as_flag_not_found(svc: Service) -> None:
    absent = evaluate(svc, "llm.model_tier")
    assert absent.status_code == 404
    assert absent.json()["errorCode"] == "FLAG_NOT_FOUND"
    assert absent.json()["key"] == "llm.model_tier"

    firing = cost_spike()
    assert post(svc.url, payload(firing)).status_code == 202
    tier = wait_for(
        lambda: (r := evaluate(svc, "llm.model_tier")).status_code == 200 and r, what="mitigation"
    )
    body = tier.json()
    assert body["key"] == "llm.model_tier"
    assert body["value"] == "economy"
    assert body["reason"] == "STATIC"
    assert body["variant"] == "economy"
    meta = body["metadata"]
    assert meta["mitigating"] is True
    assert meta["holders"] == 1
    assert meta["reason"] == f"set by alert:{firing['fingerprint']}"
    assert meta["expiresAt"] > 0
    factor = wait_for(
        lambda: (r := evaluate(svc, "ratelimit.factor")).status_code == 200 and r, what="factor"
    )
    assert factor.json()["value"] == 0.5  # the catalogue declares it a float: a JSON number
    assert isinstance(factor.json()["value"], float)

    assert post(svc.url, payload(resolved(firing))).status_code == 202
    wait_for(lambda: evaluate(svc, "llm.model_tier").status_code == 404, what="flag released")


def test_custom_flags_are_typed_by_their_value(
    svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    sync_redis.set(flag_prefix + "feature.fallback", "true")
    sync_redis.set(flag_prefix + "retry.attempts", "4")
    sync_redis.set(flag_prefix + "sample.rate", "0.25")
    sync_redis.set(flag_prefix + "llm.provider", "secondary")
    # A catalogue flag the view already tracks (as absent): a write shows once announced on the channel.
    sync_redis.set(flag_prefix + "autonomic.paused", "yes")  # catalogue: boolean, truthy words
    announce = {"flag": "autonomic.paused", "value": "yes", "reason": "by hand", "at": 0}
    sync_redis.publish(flag_prefix + "changes", json.dumps(announce))
    assert evaluate(svc, "feature.fallback").json()["value"] is True
    assert evaluate(svc, "retry.attempts").json()["value"] == 4
    assert evaluate(svc, "sample.rate").json()["value"] == 0.25
    assert evaluate(svc, "llm.provider").json()["value"] == "secondary"
    paused = wait_for(
        lambda: (r := evaluate(svc, "autonomic.paused")).status_code == 200 and r.json(), what="paused"
    )
    assert (paused["value"], paused["variant"], paused["metadata"]["mitigating"]) == (True, "yes", False)
    assert paused["metadata"]["reason"] == "baseline"


def test_bulk_evaluation_with_etag_and_304(svc: Service) -> None:
    first = bulk(svc)
    assert first.status_code == 200
    assert first.json()["flags"] == []
    etag = first.headers["ETag"]
    again = bulk(svc, {"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag

    firing = cost_spike()
    post(svc.url, payload(firing))

    def changed() -> httpx.Response | None:
        response = bulk(svc, {"If-None-Match": etag})
        return response if response.status_code == 200 and len(response.json()["flags"]) == 3 else None

    response = wait_for(changed, what="bulk shows the mitigation")
    flags = {f["key"]: f for f in response.json()["flags"]}
    assert flags["llm.model_tier"]["value"] == "economy"
    assert flags["cache.mode"]["value"] == "aggressive"
    assert flags["ratelimit.factor"]["value"] == 0.5
    new_etag = response.headers["ETag"]
    assert new_etag != etag
    assert bulk(svc, {"If-None-Match": f'"other", {new_etag}'}).status_code == 304
    assert bulk(svc, {"If-None-Match": etag}).status_code == 200


AUTH_CASES = [
    ({"Authorization": f"Bearer {FLAGS_TOKEN}"}, True),
    ({"X-API-Key": FLAGS_TOKEN}, True),
    ({"Authorization": f"Bearer {VIEWER_TOKEN}"}, True),
    ({"Authorization": f"Bearer {OPERATOR_TOKEN}"}, True),
    ({"Authorization": f"Bearer {WEBHOOK_TOKEN}"}, False),
    ({"Authorization": "Bearer wrong-token-0123456789abcdef"}, False),
    ({"X-API-Key": "wrong-token-0123456789abcdef"}, False),
    ({"X-API-Key": ""}, False),
    ({}, False),
]


def test_who_may_evaluate(svc: Service) -> None:
    for headers, allowed in AUTH_CASES:
        single = evaluate(svc, "llm.model_tier", headers=headers)
        many = httpx.post(f"{svc.url}/ofrep/v1/evaluate/flags", json={}, headers=headers, timeout=10)
        assert (single.status_code, many.status_code) == ((404, 200) if allowed else (401, 401)), headers


def test_the_flags_token_reads_flags_only(svc: Service) -> None:
    # A known token of the wrong role: 403, like the webhook token on /api.
    assert httpx.get(f"{svc.url}/api/flags", headers=FLAGS, timeout=10).status_code == 403
    assert httpx.delete(f"{svc.url}/api/flags/llm.model_tier", headers=FLAGS, timeout=10).status_code == 403
    assert (
        post(svc.url, payload(cost_spike()), {**FLAGS, "Content-Type": "application/json"}).status_code == 403
    )


BAD_INPUT = [
    ("Bad.Name", {}, "GENERAL", "invalid flag name 'Bad.Name': use [a-z0-9_.-]+ (max 200)"),
    ("x" * 201, {}, "GENERAL", "use [a-z0-9_.-]+ (max 200)"),
    ("ok", [1], "PARSE_ERROR", "body: expected a JSON object"),
    ("ok", "text", "PARSE_ERROR", "body: expected a JSON object"),
    ("ok", {"context": [1]}, "INVALID_CONTEXT", "context: Expected `object | null`, got `array`"),
    (
        "ok",
        {"context": {"targetingKey": 7}},
        "INVALID_CONTEXT",
        "context.targetingKey: expected a string",
    ),
]


def test_bad_input_is_400_naming_the_rule_or_field(svc: Service) -> None:
    for key, body, code, details in BAD_INPUT:
        response = evaluate(svc, key, body)
        assert response.status_code == 400, key
        assert response.json()["errorCode"] == code
        assert details in response.json()["errorDetails"]


def test_unparsable_and_oversized_bodies(svc: Service) -> None:
    broken = httpx.post(f"{svc.url}/ofrep/v1/evaluate/flags/ok", content=b"{nope", headers=FLAGS, timeout=10)
    assert broken.status_code == 400
    assert broken.json()["errorDetails"].startswith("body: not valid JSON")
    bulk_broken = httpx.post(f"{svc.url}/ofrep/v1/evaluate/flags", content=b"[]", headers=FLAGS, timeout=10)
    assert bulk_broken.status_code == 400
    assert bulk_broken.json()["errorCode"] == "PARSE_ERROR"
    huge = b'{"context": {"k": "' + b"x" * 100_000 + b'"}}'
    assert (
        httpx.post(
            f"{svc.url}/ofrep/v1/evaluate/flags/ok", content=huge, headers=FLAGS, timeout=10
        ).status_code
        == 413
    )


def test_evaluation_changes_nothing(svc: Service, sync_redis: redis.Redis, ns: str) -> None:
    post(svc.url, payload(cost_spike()))
    wait_for(lambda: evaluate(svc, "cache.mode").status_code == 200, what="mitigation")

    wait_for(lambda: sync_redis.xlen(f"{ns}executions") >= 1, what="execution recorded")

    def state() -> dict[str, Any]:
        # Every flag key, the lease index and holder sets, byte for byte; the names of all other keys.
        keys = sorted(sync_redis.scan_iter(match=f"{ns}*", count=1000))
        flag_keys = [k for k in keys if k.startswith((f"{ns}flags:", f"{ns}leases", f"{ns}holder:"))]
        return {"names": keys, **{k: sync_redis.dump(k) for k in flag_keys}}

    before = state()
    for key in ("cache.mode", "absent.flag", "Bad!", "ratelimit.user.u1"):
        for body in ({}, {"context": {"targetingKey": "u"}}, [], {"context": 1}):
            evaluate(svc, key, body)
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        assert (
            httpx.request(method, f"{svc.url}/ofrep/v1/evaluate/flags/cache.mode", headers=FLAGS).status_code
            == 405
        )
    bulk(svc)
    assert state() == before


def test_memory_url_serves_the_same(start_service: Callable[..., Service]) -> None:
    svc = start_service(AUTONOMIC_REDIS_URL="memory://", AUTONOMIC_FLAGS_TOKEN=FLAGS_TOKEN, name="memory")
    assert evaluate(svc, "llm.model_tier").status_code == 404
    firing = cost_spike()
    post(svc.url, payload(firing))
    tier = wait_for(
        lambda: (r := evaluate(svc, "llm.model_tier")).status_code == 200 and r, what="mitigation"
    )
    assert tier.json()["value"] == "economy"
    assert tier.json()["metadata"]["holders"] == 1
    assert len(bulk(svc).json()["flags"]) == 3
    post(svc.url, payload(resolved(firing)))
    wait_for(lambda: evaluate(svc, "llm.model_tier").status_code == 404, what="flag released")


def test_short_flags_token_fails_start_up_in_one_line(start_service: Callable[..., Service]) -> None:
    svc = start_service(AUTONOMIC_FLAGS_TOKEN="short", wait_ready=False, name="badtoken")
    assert svc.proc is not None
    assert svc.proc.wait(30) != 0
    assert "AUTONOMIC_FLAGS_TOKEN: tokens must be at least 24 characters" in svc.logs()
    assert "Traceback" not in svc.logs()


def test_redis_outage_answers_from_memory_and_503_for_the_unknown(
    start_service: Callable[..., Service],
) -> None:
    private = RedisServer().start()
    try:
        svc = start_service(AUTONOMIC_REDIS_URL=private.url, AUTONOMIC_FLAGS_TOKEN=FLAGS_TOKEN, name="outage")
        firing = cost_spike()
        post(svc.url, payload(firing))
        wait_for(lambda: evaluate(svc, "llm.model_tier").status_code == 200, what="mitigation")
        assert evaluate(svc, "feature.absent").status_code == 404
        private.stop()
        tier = evaluate(svc, "llm.model_tier")  # known: served from memory
        assert (tier.status_code, tier.json()["value"]) == (200, "economy")
        assert evaluate(svc, "feature.absent").status_code == 404  # known to be absent
        unknown = evaluate(svc, "never.asked")
        assert unknown.status_code == 503
        assert unknown.headers["Retry-After"] == "5"
        assert "redis cannot be read" in unknown.json()["errorDetails"]
        assert bulk(svc).status_code == 200
    finally:
        private.stop()
