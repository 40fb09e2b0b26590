"""`POST /webhooks/alertmanager`: authenticate, bound, validate, then dedup + enqueue in one
Redis round trip. 202 only after Redis acknowledged; 503 + Retry-After when Redis is
down, the backlog is full or execution is saturated and the webhook's turn did not come
(app/engine/admission.py; Alertmanager retries 5xx, never 4xx).
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, post
from litestar.exceptions import (
    ClientException,
    HTTPException,
    ServiceUnavailableException,
)
from litestar.status_codes import (
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)
from redis.exceptions import RedisError

from app import metrics, tracing
from app.engine.admission import Overloaded
from app.engine.lanes import HIGH
from app.engine.queue import QueueFull, seen_mark
from app.engine.runtime import Runtime
from app.models import Alert, InvalidPayload, WebhookPayload, decode_payload
from app.web.auth import authenticate
from app.web.credentials import Role
from app.web.deps import RuntimeDep

log = structlog.get_logger(__name__)
_encoder = msgspec.json.Encoder()
RETRY_AFTER = "5"
_INGEST: frozenset[Role] = frozenset({"webhook", "operator"})


class Accepted(msgspec.Struct):
    """How many alerts were queued, and how many were repeats already seen."""

    accepted: int
    duplicates: int


def _unavailable(detail: str) -> ServiceUnavailableException:
    return ServiceUnavailableException(detail, headers={"Retry-After": RETRY_AFTER})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(f"body exceeds {limit} bytes", status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(f"body exceeds {limit} bytes", status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_payload(body: bytes) -> WebhookPayload:
    """The payload, or a 400 naming the bad field."""
    try:
        return decode_payload(body)
    except InvalidPayload as exc:
        raise ClientException(str(exc)) from None


@post("/webhooks/alertmanager", status_code=202, summary="Receive an Alertmanager webhook")
async def alertmanager_webhook(runtime: RuntimeDep, request: Request[Any, Any, Any]) -> Accepted:
    """Queue each alert of an Alertmanager (version 4) webhook payload, dropping repeats."""
    code = "202"
    try:
        authenticate(request, _INGEST, "/webhooks/alertmanager")
        if not _is_json(request.headers.get("content-type", "")):
            raise HTTPException(
                "content type must be application/json", status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE
            )
        return await _ingest(request, runtime)
    except HTTPException as exc:
        code = str(exc.status_code)
        raise
    finally:
        metrics.counter(metrics.WEBHOOKS, code).inc()


async def _ingest(request: Request[Any, Any, Any], runtime: Runtime) -> Accepted:
    """Read, validate and queue one webhook's alerts."""
    payload = parse_payload(await _read_body(request, runtime.settings.max_body_bytes))
    items, lanes = [], set()
    for item in payload.alerts:
        alert = Alert.from_webhook(item, payload)
        traceparent = tracing.alert_traceparent(alert.name, alert.fingerprint)
        mark = seen_mark(alert.status, alert.fingerprint)
        lane = runtime.queue.lanes.lane(alert.labels)
        lanes.add(lane)
        items.append((alert.event_key, _encoder.encode(alert).decode(), traceparent, mark, lane))
    if not items:
        return Accepted(0, 0)
    try:
        if HIGH in lanes:  # a webhook with a high-lane alert never waits for a turn
            accepted, duplicates = await runtime.queue.enqueue(items)
        else:
            async with runtime.workers.intake.admit():  # turns while execution is saturated
                accepted, duplicates = await runtime.queue.enqueue(items)
    except Overloaded as exc:
        # Debug only: a flood would log every refusal (the 503s are counted in metrics).
        log.debug("execution saturated, refusing webhook", detail=str(exc))
        raise _unavailable("execution is saturated; retry later") from None
    except QueueFull as exc:
        log.warning("queue full, refusing webhook", detail=str(exc))
        raise _unavailable("queue is full; retry later") from None
    except (RedisError, OSError) as exc:
        log.error("redis unavailable, refusing webhook", error=str(exc))
        raise _unavailable("queue unavailable; retry later") from None
    metrics.counter(metrics.ALERTS, "accepted").inc(accepted)
    metrics.counter(metrics.ALERTS, "duplicate").inc(duplicates)
    return Accepted(accepted, duplicates)
