"""Bearer / Basic token authentication: webhook, viewer, operator and metrics roles.

The webhook token only ingests; a viewer token reads the API; an operator token
does everything; the metrics token (if configured) scrapes /metrics. Tokens are
compared in constant time, an empty one never matches, and none is ever logged.
Every failure is logged (route, reason, client address) and counted in
`autonomic_auth_failures_total{route,reason}`. Who acted is the name of the
token used — or the user a trusted authenticating proxy names — never a header
the caller chooses.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from app import metrics
from app.web.credentials import Credential, Credentials, Role
from app.web.proxy import client_address, proxy_identity

log = structlog.get_logger(__name__)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="autonomic"'}
_STATE_KEY = "credential"


def presented_secret(authorization: str | None) -> bytes | None:
    """The token from `Authorization: Bearer <t>` or the password of `Basic`."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip().encode()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        return decoded.partition(b":")[2]
    return None


def credentials_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Credentials:
    """The replica's credentials, kept in the app state by the factory."""
    credentials: Credentials = connection.app.state.credentials
    return credentials


def route_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The route template (bounded label values), else the path."""
    template = connection.scope.get("path_template")
    return template if isinstance(template, str) and template else connection.scope.get("path", "")


def failed(connection: ASGIConnection[Any, Any, Any, Any], reason: str, route: str | None = None) -> None:
    """Log and count one authentication failure (never with what was presented)."""
    route = route or route_of(connection)
    metrics.AUTH_FAILURES.labels(route, reason).inc()
    log.warning("authentication failed", route=route, reason=reason, client=client_address(connection))


def authenticate(
    connection: ASGIConnection[Any, Any, Any, Any], allowed: frozenset[Role], route: str | None = None
) -> Credential:
    """The credential presented, if its role is in `allowed`; else 401 (no/bad token) or 403."""
    header = connection.headers.get("authorization")
    credential = credentials_of(connection).identify(presented_secret(header))
    if credential is None:
        failed(connection, "missing" if not header else "invalid", route)
        raise NotAuthorizedException("missing or invalid token", headers=CHALLENGE)
    if credential.role not in allowed:
        failed(connection, "forbidden", route)
        raise PermissionDeniedException(f"the {credential.role} token may not do this")
    connection.state[_STATE_KEY] = credential
    return credential


def actor_of(connection: ASGIConnection[Any, Any, Any, Any], name: str | None = None) -> str:
    """Who acts: the user a trusted proxy names, else the name of the token used (or `name`)."""
    vouched = proxy_identity(connection, connection.app.state.runtime.settings)
    if vouched:
        return vouched
    if name is not None:
        return name
    credential: Credential | None = connection.state.get(_STATE_KEY)
    return credential.name if credential is not None else "unknown"


_READ: frozenset[Role] = frozenset({"viewer", "operator"})
_WRITE: frozenset[Role] = frozenset({"operator"})
_SCRAPE: frozenset[Role] = frozenset({"metrics"})


def reader(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: viewer or operator token."""
    authenticate(connection, _READ)


def operator(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: operator token."""
    authenticate(connection, _WRITE)


def scraper(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for /metrics: the metrics token, when one is configured; open otherwise."""
    if credentials_of(connection).of_role("metrics"):
        authenticate(connection, _SCRAPE)
