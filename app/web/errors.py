"""Unexpected errors: one log line each, with a request id, and a 500 that says nothing more.

Litestar's own exception logging stays off (app.logs owns the process's log format);
this handler is it. The line carries the request id (the caller's `X-Request-Id` if
it looks like one, else a fresh one, echoed in the response), the route, the error
type and a redacted message with the traceback — never a header, cookie or body.
"""

from __future__ import annotations

import re
import traceback
import uuid
from typing import Any

import structlog
from litestar import MediaType, Request, Response

from app.actions.redaction import Redactor

log = structlog.get_logger(__name__)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id(request: Request[Any, Any, Any]) -> str:
    """The caller's request id if well-formed, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log an unhandled exception once and answer 500 with the request id."""
    rid = request_id(request)
    redact = Redactor(request.app.state.runtime.settings.secret_values())
    log.error(
        "unhandled error",
        request_id=rid,
        method=request.method,
        route=request.scope.get("path_template") or "?",
        error=type(exc).__name__,
        detail=redact(str(exc))[:500],
        traceback=redact("".join(traceback.format_exception(exc)))[-4000:],
    )
    return Response(
        {"status_code": 500, "detail": "Internal Server Error", "request_id": rid},
        status_code=500,
        media_type=MediaType.JSON,
        headers={"X-Request-Id": rid},
    )
