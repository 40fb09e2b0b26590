"""Liveness (`/healthz`), readiness (`/readyz`: Redis reachable, not draining) and `/metrics`."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import ServiceUnavailableException
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app import metrics as autonomic_metrics
from app.web.auth import scraper
from app.web.deps import RuntimeDep


@get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/readyz", summary="Readiness")
async def readyz(runtime: RuntimeDep, request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Ready while Redis answers and the replica is not shutting down."""
    if request.app.state.get("draining"):
        raise ServiceUnavailableException("shutting down", headers={"Retry-After": "5"})
    try:
        await asyncio.wait_for(runtime.clients.commands.ping(), runtime.settings.redis_timeout)
    except Exception as exc:
        raise ServiceUnavailableException(
            f"redis unreachable: {type(exc).__name__}", headers={"Retry-After": "5"}
        ) from None
    return {"status": "ready", "playbooks": len(runtime.registry)}


@get("/metrics", summary="Prometheus metrics", include_in_schema=False, guards=[scraper])
async def metrics(runtime: RuntimeDep) -> Response[bytes]:
    """The process's metrics in the Prometheus text format, with the shared state read from Redis
    now (so every replica answers the same; stale figures are flagged, never an error). Needs
    AUTONOMIC_METRICS_TOKEN when one is set."""
    if runtime.state is not None:
        try:
            await asyncio.wait_for(runtime.state.refresh(), runtime.settings.redis_timeout)
        except TimeoutError:
            runtime.state.state.ok = False
        autonomic_metrics.PAUSED.set(1 if runtime.state.state.paused else 0)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
