"""Console sessions: an HttpOnly cookie naming the token (by name) that opened it, signed with
the service's own secret (app/engine/keyring.py), never with a key derived from a token.

The cookie also carries a keyed fingerprint of that token, so a session ends as soon
as its token is removed or changed; the role is taken from the token as configured
now. Cookie values are compared as bytes, so no input can turn the check into an error.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from dataclasses import dataclass

from app.engine.keyring import Keyring
from app.web.credentials import Credential, Credentials, Role

COOKIE = "autonomic_session"
LIFETIME_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    """Who is logged in to the console: the token's role and name, and the actor recorded."""

    role: Role
    name: str
    actor: str
    expires: float


def _binding(ring: Keyring, credential: Credential) -> str:
    return ring.sign("session-binding", credential.secret)[:32]


def issue(ring: Keyring, credential: Credential, actor: str) -> str:
    """A signed cookie value for a login with `credential`."""
    data = {
        "r": credential.role,
        "n": credential.name,
        "b": _binding(ring, credential),
        "a": actor,
        "e": time.time() + LIFETIME_S,
    }
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    return f"{body}.{ring.sign('session', body.encode())}"


def read(ring: Keyring, credentials: Credentials, value: str | None) -> Session | None:
    """The session in a cookie value; None if absent, forged, expired, or its token is gone."""
    if not value:
        return None
    raw = value.encode("utf-8", "surrogateescape")
    body, dot, signature = raw.rpartition(b".")
    if not dot or not hmac.compare_digest(signature, ring.sign("session", body).encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body))
        role, name, binding = str(data["r"]), str(data["n"]), str(data["b"])
        actor, expires = str(data["a"]), float(data["e"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if role not in ("viewer", "operator") or expires < time.time():
        return None
    credential = credentials.named(role, name)  # type: ignore[arg-type]
    if credential is None or not hmac.compare_digest(binding.encode(), _binding(ring, credential).encode()):
        return None
    return Session(role=credential.role, name=credential.name, actor=actor, expires=expires)
