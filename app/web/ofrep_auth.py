"""Who may evaluate flags over OFREP: the read-only flags token, or a viewer or operator token.

`AUTONOMIC_FLAGS_TOKEN` is optional and grants flag evaluation only (an
application's credential must not read executions or revert flags). The
token comes as `Authorization: Bearer <token>` or as the OFREP spec's
`X-API-Key` header. Compared in constant time; never logged.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from app.errors import ConfigError
from app.settings import Settings
from app.web.auth import Tokens, presented_secret

MIN_LENGTH = 24


@dataclass(frozen=True)
class FlagReaders:
    """The flags token (if configured) plus the service's role tokens."""

    tokens: Tokens
    flags: bytes | None

    @classmethod
    def from_settings(cls, settings: Settings, tokens: Tokens) -> FlagReaders:
        """Check the flags token (long enough, distinct from the other roles' tokens)."""
        secret = settings.flags_token
        if secret is None:
            return cls(tokens, None)
        value = secret.get_secret_value().encode()
        if len(value) < MIN_LENGTH:
            raise ConfigError(f"AUTONOMIC_FLAGS_TOKEN must be at least {MIN_LENGTH} characters")
        if tokens.role_of(value) is not None:
            raise ConfigError(
                "AUTONOMIC_FLAGS_TOKEN must differ from the webhook, viewer and operator tokens"
            )
        return cls(tokens, value)

    def allows(self, authorization: str | None, api_key: str | None) -> bool:
        """True if the request's Bearer token or X-API-Key may read flags."""
        secret = presented_secret(authorization) if authorization else None
        if secret is None and api_key:
            secret = api_key.strip().encode()
        if not secret:
            return False
        if self.flags is not None and hmac.compare_digest(secret, self.flags):
            return True
        return self.tokens.role_of(secret) in ("viewer", "operator")
