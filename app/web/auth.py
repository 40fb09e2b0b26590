"""Bearer / Basic token authentication with three roles: webhook, viewer, operator.

The webhook token only ingests; the viewer token reads the API; the operator
token does everything. Tokens are compared in constant time and never logged.
A role whose token is not configured gets a generated one, printed once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import sys
from dataclasses import dataclass
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from app.settings import Settings

Role = Literal["webhook", "viewer", "operator"]
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="autonomic"'}


@dataclass(frozen=True)
class Tokens:
    """The configured secret of each role (viewer may be absent)."""

    webhook: bytes
    operator: bytes
    viewer: bytes | None

    @classmethod
    def from_settings(cls, settings: Settings, *, announce: bool = True) -> Tokens:
        """Use the configured tokens; generate (and print once) those that are missing."""

        def pick(name: str) -> bytes:
            secret = getattr(settings, f"{name}_token")
            if secret is not None:
                return str(secret.get_secret_value()).encode()
            generated = secrets.token_urlsafe(24)
            if announce:
                # Two short lines (80 columns); the second pastes into a shell as-is.
                print(
                    f"autonomic: AUTONOMIC_{name.upper()}_TOKEN not set; generated one for this process:\n"
                    f"  {name.upper()}_TOKEN={generated}",
                    file=sys.stderr,
                    flush=True,
                )
            return generated.encode()

        viewer = settings.viewer_token
        return cls(
            webhook=pick("webhook"),
            operator=pick("operator"),
            viewer=viewer.get_secret_value().encode() if viewer else None,
        )

    def role_of(self, presented: bytes) -> Role | None:
        """The role the presented secret grants (the highest one, if tokens coincide)."""
        if hmac.compare_digest(presented, self.operator):
            return "operator"
        if self.viewer is not None and hmac.compare_digest(presented, self.viewer):
            return "viewer"
        if hmac.compare_digest(presented, self.webhook):
            return "webhook"
        return None


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


def require(connection: ASGIConnection[Any, Any, Any, Any], allowed: frozenset[Role]) -> Role:
    """The caller's role if it is in `allowed`; else 401 (no/bad token) or 403 (wrong role)."""
    tokens: Tokens = connection.app.state.tokens
    secret = presented_secret(connection.headers.get("authorization"))
    role = tokens.role_of(secret) if secret is not None else None
    if role is None:
        raise NotAuthorizedException("missing or invalid token", headers=_CHALLENGE)
    if role not in allowed:
        raise PermissionDeniedException(f"the {role} token may not do this")
    return role


_READ: frozenset[Role] = frozenset({"viewer", "operator"})
_WRITE: frozenset[Role] = frozenset({"operator"})


def reader(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: viewer or operator token."""
    require(connection, _READ)


def operator(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: operator token."""
    require(connection, _WRITE)
