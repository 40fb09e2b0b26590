"""Browser protections for the console (/ui): CSRF tokens, security headers, Secure cookies.

CSRF is a signed double submit: a cookie `csrftoken` holding a random value and its
HMAC under the service's own key (app/engine/keyring.py), echoed in every form as
`_csrf_token`; a POST whose field and cookie differ, or whose signature is wrong, is
refused with 403. Values are compared as bytes. Every console response carries a
Content-Security-Policy with a per-response script nonce, `X-Frame-Options: DENY`,
`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; cookies get
`Secure` when the request came over TLS (after trusted forwarding headers) or
`AUTONOMIC_PUBLIC_URL` is https.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import structlog
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException, ServiceUnavailableException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from redis.exceptions import RedisError

from app import metrics
from app.engine.keyring import Keyring

log = structlog.get_logger(__name__)
CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrftoken"
NONCE = "autonomic.csp_nonce"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def csp(nonce: str) -> str:
    """The console's Content-Security-Policy: only its own script and stylesheet files (no inline
    code or style at all; a nonce'd script would also run), nothing framed or fetched elsewhere."""
    return (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def secure_request(scope: Scope) -> bool:
    """True when cookies must be `Secure`: TLS to us (or to a trusted forwarder) or an https PUBLIC_URL."""
    public_url = scope["litestar_app"].state.runtime.settings.public_url or ""
    return scope.get("scheme") == "https" or public_url.startswith("https://")


def _token(ring: Keyring) -> str:
    value = secrets.token_hex(32)
    return f"{value}.{ring.sign('csrf', value.encode())}"


def _valid(ring: Keyring, token: bytes) -> bool:
    value, dot, signature = token.rpartition(b".")
    return bool(dot) and hmac.compare_digest(signature, ring.sign("csrf", value).encode())


def _cookie(scope: Scope, name: str) -> bytes | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.split(b";"):
                k, sep, v = part.strip().partition(b"=")
                if sep and k == name.encode():
                    return v.strip()
    return None


def console_guard(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: CSRF, security headers and Secure cookies on /ui."""

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not (
            scope["path"] == "/ui" or scope["path"].startswith("/ui/")
        ):
            await app(scope, receive, send)
            return
        litestar_app = scope["litestar_app"]
        try:
            ring = await litestar_app.state.runtime.keyring.get()
        except (RedisError, OSError) as exc:
            log.error("cannot load the session secret", error=type(exc).__name__)
            raise ServiceUnavailableException(
                "session secret unavailable; retry later", headers={"Retry-After": "5"}
            ) from None
        cookie = _cookie(scope, CSRF_COOKIE)
        valid_cookie = cookie is not None and _valid(ring, cookie)
        state = ScopeState.from_scope(scope)
        if scope["method"] in _SAFE:
            state.csrf_token = cookie.decode() if cookie is not None and valid_cookie else _token(ring)
        else:
            request: Any = litestar_app.request_class(scope=scope, receive=receive)
            presented = request.headers.get(CSRF_HEADER)
            if presented is None and request.content_type[0] in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                presented = (await request.form()).get(CSRF_FIELD)
            if not (
                valid_cookie
                and isinstance(presented, str)
                and cookie is not None
                and hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), cookie)
            ):
                metrics.AUTH_FAILURES.labels(scope.get("path_template") or "/ui", "csrf").inc()
                log.warning("csrf check failed", path=scope["path"][:200])
                raise PermissionDeniedException("CSRF token verification failed")
            state.csrf_token = presented
        nonce = secrets.token_urlsafe(16)
        scope[NONCE] = nonce  # type: ignore[literal-required]
        secure = secure_request(scope)
        new_cookie = None if valid_cookie else state.csrf_token

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["Content-Security-Policy"] = csp(nonce)
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cache-Control"] = "no-store"
                if new_cookie and scope["method"] in _SAFE:
                    headers.add(
                        "set-cookie",
                        Cookie(
                            key=CSRF_COOKIE,
                            value=new_cookie,
                            path="/ui",
                            samesite="strict",
                            httponly=False,
                            secure=secure,
                        ).to_header(header=""),
                    )
            await send(message)

        await app(scope, receive, send_with_headers)

    return guard


def csp_nonce(context: Any, /) -> str:
    """Template callable: this response's script nonce."""
    request = context["request"]
    return str(request.scope.get(NONCE, ""))
