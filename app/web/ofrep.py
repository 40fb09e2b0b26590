"""OFREP: the OpenFeature Remote Evaluation Protocol (spec 0.3.0), so any OpenFeature SDK reads the flags.

`POST /ofrep/v1/evaluate/flags/{key}` evaluates one flag, `POST
/ofrep/v1/evaluate/flags` all of them (with an `ETag`; `If-None-Match` →
304). Answers come from the in-memory `FlagView` (no Redis round trip per
evaluation) with the value typed by the flag catalogue, reason `STATIC` and
metadata (`mitigating`, `holders`, `expiresAt`, `reason`). An absent flag is
the spec's `FLAG_NOT_FOUND`: no mitigation holds it, so the provider falls
back to the application's code default. The evaluation context is accepted
and ignored (mitigations do not target). Nothing here changes state. Spec
0.3.0 has no `/ofrep/v1/configuration` endpoint (removed from the protocol),
so none is served.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath

from app.actions import flag_catalogue
from app.actions.flag_view import FlagEntry, FlagsUnavailable, FlagView
from app.actions.flags import InvalidFlagName, check_name
from app.web.auth import failed
from app.web.deps import RuntimeDep
from app.web.ofrep_auth import FlagReaders

MAX_BODY_BYTES = 64 * 1024
_JSON = "application/json"
_encoder = msgspec.json.Encoder()
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="autonomic-flags"'}


class EvaluationRequest(msgspec.Struct):
    """The spec's request body; `context` is optional here (the reference providers omit it)."""

    context: dict[str, Any] | None = None


_decoder = msgspec.json.Decoder(EvaluationRequest)


class BadRequest(ValueError):
    """A body that is not the spec's shape; `code` is the OFREP error code."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code


def parse_request(body: bytes) -> EvaluationRequest:
    """The request body, or BadRequest naming the field that is wrong."""
    try:
        request = _decoder.decode(body)
    except msgspec.ValidationError as exc:
        # msgspec says e.g. "Expected `object`, got `array` - at `$.context`"
        message, _, where = str(exc).partition(" - at `$.")
        field = where.rstrip("`") or "body"
        if field == "body":
            message = 'expected a JSON object like {"context": {...}}'
        code = "INVALID_CONTEXT" if field.startswith("context") else "PARSE_ERROR"
        raise BadRequest(code, f"{field}: {message}") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("PARSE_ERROR", f"body: not valid JSON ({exc})") from None
    key = request.context.get("targetingKey") if request.context else None
    if key is not None and not isinstance(key, str):
        raise BadRequest("INVALID_CONTEXT", "context.targetingKey: expected a string")
    return request


def evaluation(entry: FlagEntry) -> dict[str, Any]:
    """The spec's evaluationSuccess for a flag that has a value."""
    metadata: dict[str, Any] = {
        "mitigating": entry.holders > 0,
        "holders": entry.holders,
        "reason": entry.reason,
    }
    if entry.expires_at_ms is not None:
        metadata["expiresAt"] = entry.expires_at_ms / 1000
    return {
        "key": entry.name,
        "value": flag_catalogue.typed(entry.name, entry.value),
        "reason": "STATIC",
        "variant": entry.value,
        "metadata": metadata,
    }


class Rendered:
    """Encoded answers cached per entry and per view version: the hot path only looks them up."""

    def __init__(self) -> None:
        self._single: dict[str, tuple[FlagEntry, bytes]] = {}
        self._bulk: tuple[int, str, bytes] = (-1, "", b"")

    def single(self, entry: FlagEntry) -> bytes:
        cached = self._single.get(entry.name)
        if cached is not None and cached[0] is entry:
            return cached[1]
        body = _encoder.encode(evaluation(entry))
        if len(self._single) > 20_000:
            self._single.clear()
        self._single[entry.name] = (entry, body)
        return body

    def bulk(self, view: FlagView) -> tuple[str, bytes]:
        version, etag, body = self._bulk
        if version != view.version:
            version = view.version
            body = _encoder.encode({"flags": [evaluation(e) for e in view.active()]})
            etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
            self._bulk = (version, etag, body)
        return etag, body


def _json(
    status: int, payload: bytes | dict[str, Any], headers: dict[str, str] | None = None
) -> Response[bytes]:
    body = payload if isinstance(payload, bytes) else _encoder.encode(payload)
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


def _unavailable(exc: Exception) -> Response[bytes]:
    return _json(503, {"errorDetails": str(exc)}, {"Retry-After": "5"})


def _authorize(request: Request[Any, Any, Any]) -> None:
    readers: FlagReaders = request.app.state.flag_readers
    headers = request.headers
    if not readers.allows(headers.get("authorization"), headers.get("x-api-key")):
        presented = headers.get("authorization") or headers.get("x-api-key")
        failed(request, "invalid" if presented else "missing")
        raise NotAuthorizedException("missing or invalid flags token", headers=_CHALLENGE)


def _matches(if_none_match: str, etag: str) -> bool:
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


@post(
    "/ofrep/v1/evaluate/flags/{key:str}",
    summary="OFREP: evaluate one flag",
    tags=["ofrep"],
    request_max_body_size=MAX_BODY_BYTES,
)
async def evaluate_flag(
    runtime: RuntimeDep, request: Request[Any, Any, Any], key: FromPath[str]
) -> Response[bytes]:
    """The flag's typed value with reason and metadata; 404 FLAG_NOT_FOUND when no value is set."""
    _authorize(request)
    try:
        check_name(key)
    except InvalidFlagName as exc:
        return _json(400, {"key": key[:200], "errorCode": "GENERAL", "errorDetails": str(exc)})
    try:
        parse_request(await request.body())
    except BadRequest as exc:
        return _json(400, {"key": key, "errorCode": exc.code, "errorDetails": str(exc)})
    try:
        entry = await runtime.flag_view.get(key)
    except FlagsUnavailable as exc:
        return _unavailable(exc)
    if entry is None:
        return _json(
            404,
            {
                "key": key,
                "errorCode": "FLAG_NOT_FOUND",
                "errorDetails": f"flag {key!r} has no value: no mitigation holds it, use your default",
            },
        )
    rendered: Rendered = request.app.state.ofrep_rendered
    return _json(200, rendered.single(entry))


@post(
    "/ofrep/v1/evaluate/flags",
    summary="OFREP: evaluate every flag that has a value",
    tags=["ofrep"],
    request_max_body_size=MAX_BODY_BYTES,
)
async def evaluate_flags(runtime: RuntimeDep, request: Request[Any, Any, Any]) -> Response[bytes]:
    """Every flag with a value (mitigations and set catalogue flags), with an ETag for If-None-Match."""
    _authorize(request)
    try:
        parse_request(await request.body())
    except BadRequest as exc:
        return _json(400, {"errorCode": exc.code, "errorDetails": str(exc)})
    view = runtime.flag_view
    if not view.loaded:
        return _unavailable(FlagsUnavailable("flags unavailable: redis has not been read yet"))
    rendered: Rendered = request.app.state.ofrep_rendered
    etag, body = rendered.bulk(view)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and _matches(if_none_match, etag):
        return Response(b"", status_code=304, headers={"ETag": etag})
    return _json(200, body, {"ETag": etag})


ROUTES = [evaluate_flag, evaluate_flags]
