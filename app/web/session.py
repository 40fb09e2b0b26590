"""Console sessions: an HttpOnly cookie holding the role and name, signed with a key derived from
the operator token (so every replica accepts it and rotating the token logs everyone out)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from app.web.auth import Role, Tokens

COOKIE = "autonomic_session"
LIFETIME_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    """Who is logged in to the console."""

    role: Role
    actor: str
    expires: float


def _key(tokens: Tokens, purpose: str) -> bytes:
    return hmac.new(tokens.operator, f"autonomic-console-{purpose}".encode(), hashlib.sha256).digest()


def csrf_secret(tokens: Tokens) -> str:
    """The CSRF signing secret, shared by replicas."""
    return _key(tokens, "csrf").hex()


def issue(tokens: Tokens, role: Role, actor: str) -> str:
    """A signed cookie value for `role` and `actor`."""
    body = base64.urlsafe_b64encode(
        json.dumps({"r": role, "a": actor, "e": time.time() + LIFETIME_S}).encode()
    ).decode()
    signature = hmac.new(_key(tokens, "session"), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{signature}"


def read(tokens: Tokens, value: str | None) -> Session | None:
    """The session in a cookie value, None if absent, forged or expired."""
    if not value or "." not in value:
        return None
    body, _, signature = value.rpartition(".")
    expected = hmac.new(_key(tokens, "session"), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body))
        session = Session(role=data["r"], actor=str(data["a"]), expires=float(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.role not in ("viewer", "operator") or session.expires < time.time():
        return None
    return session
