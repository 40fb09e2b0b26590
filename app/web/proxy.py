"""Who is on the other end: the socket peer, the client behind trusted forwarders, and the
user an authenticating proxy vouches for.

`serve` wraps the app in uvicorn's proxy-headers middleware with
`AUTONOMIC_FORWARDED_ALLOW_IPS`, so `X-Forwarded-For` / `X-Forwarded-Proto` from those
peers set the client address and the scheme (and with it `Secure` cookies). Outside
that middleware the original socket peer is kept, because the identity header
(`AUTONOMIC_IDENTITY_HEADER`) counts only when the peer itself is one of
`AUTONOMIC_TRUSTED_PROXIES`; from anyone else it is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.settings import Settings

PEER = "autonomic.peer"
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"


def serving_app(app: ASGIApp, settings: Settings) -> ASGIApp:
    """`app` as `serve` runs it: proxy headers from the allowed forwarders, the socket peer kept."""
    trusted = settings.forwarded_allow_ips or DEFAULT_FORWARDED_ALLOW_IPS
    forwarded = ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]

    async def keep_peer(scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if client:
            scope[PEER] = client[0]  # type: ignore[literal-required]
        await forwarded(scope, receive, send)  # type: ignore[arg-type]

    return keep_peer


def peer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address of the socket peer (the last hop), before any forwarding headers."""
    original = connection.scope.get(PEER)
    if isinstance(original, str):
        return original
    return connection.client.host if connection.client else ""


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address (after forwarding headers from allowed forwarders)."""
    return connection.client.host if connection.client else ""


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def proxy_identity(connection: ASGIConnection[Any, Any, Any, Any], settings: Settings) -> str | None:
    """The user named in the identity header, if a trusted proxy sent it; else None."""
    if not settings.identity_header or not settings.trusted_proxies:
        return None
    try:
        address = ipaddress.ip_address(peer(connection))
    except ValueError:
        return None
    if not any(address in net for net in _networks(tuple(settings.trusted_proxies))):
        return None
    value = connection.headers.get(settings.identity_header, "")
    cleaned = "".join(c for c in value if c.isprintable()).strip()[:200]
    return cleaned or None
