"""Who may evaluate flags over OFREP: the read-only flags token, or a viewer or operator token.

`AUTONOMIC_FLAGS_TOKEN` is optional and grants flag evaluation only (an
application's credential must not read executions or revert flags). The
token comes as `Authorization: Bearer <token>` or as the OFREP spec's
`X-API-Key` header. Its length and distinctness are checked with every other
token's (app/web/credentials.py); compared in constant time; never logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.settings import Settings
from app.web.auth import presented_secret
from app.web.credentials import Credentials, Role

_READERS: frozenset[Role] = frozenset({"flags", "viewer", "operator"})


@dataclass(frozen=True)
class FlagReaders:
    """The service's credentials, seen from OFREP."""

    credentials: Credentials

    @classmethod
    def from_settings(cls, settings: Settings, credentials: Credentials) -> FlagReaders:
        """The readers among `credentials` (the flags token was validated with them)."""
        del settings  # kept for the call sites' symmetry; everything is in `credentials`
        return cls(credentials)

    def allows(self, authorization: str | None, api_key: str | None) -> bool:
        """True if the request's Bearer token or X-API-Key may read flags."""
        secret = presented_secret(authorization) if authorization else None
        if secret is None and api_key:
            secret = api_key.strip().encode()
        credential = self.credentials.identify(secret)
        return credential is not None and credential.role in _READERS
