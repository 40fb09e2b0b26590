"""The configured tokens, each with a role and a name, checked once at start-up.

Roles: `webhook` ingests, `viewer` reads, `operator` does everything, `metrics`
scrapes /metrics, `flags` evaluates flags over OFREP. Named tokens
(`AUTONOMIC_OPERATOR_TOKENS=alice:…,bob:…`) are how actions get attributed: the
name of the token used is the actor, never a header or a form field. The
single-token settings are named `operator`, `viewer`, `webhook`, `metrics` and
`flags`. Every token is at least 24 characters and no two are equal, or start-up
stops with one line naming the setting. Tokens are generated (and printed once,
with a warning) only for a first run on `memory://`; with a real Redis, missing
tokens stop start-up.
"""

from __future__ import annotations

import hmac
import re
import secrets
import sys
from dataclasses import dataclass
from typing import Literal

from app.errors import ConfigError
from app.settings import Settings

Role = Literal["webhook", "viewer", "operator", "metrics", "flags"]
MIN_LENGTH = 24
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")


@dataclass(frozen=True)
class Credential:
    """One token: its role, the name actions are attributed to, the setting it came from."""

    role: Role
    name: str
    secret: bytes
    setting: str


def _named(setting: str, role: Role, text: str) -> list[Credential]:
    out = []
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, token = item.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not NAME.fullmatch(name):
            raise ConfigError(
                f"{setting}: each entry must be name:token with a name of letters, digits and _.@+- (max 64)"
            )
        out.append(Credential(role, name, token.encode(), f"{setting} ({name})"))
    if not out:
        raise ConfigError(f"{setting}: no name:token entries")
    return out


def _configured(settings: Settings) -> list[Credential]:
    found: list[Credential] = []
    single: tuple[tuple[str, Role], ...] = (
        ("webhook", "webhook"),
        ("operator", "operator"),
        ("viewer", "viewer"),
        ("metrics", "metrics"),
        ("flags", "flags"),
    )
    for field, role in single:
        secret = getattr(settings, f"{field}_token")
        if secret is not None:
            token = secret.get_secret_value().strip().encode()
            found.append(Credential(role, field, token, _setting(field, "TOKEN")))
    for field, role in (("operator", "operator"), ("viewer", "viewer")):
        listed = getattr(settings, f"{field}_tokens")
        if listed is not None:
            found += _named(_setting(field, "TOKENS"), role, listed.get_secret_value())
    return found


def _setting(field: str, suffix: str) -> str:
    return f"AUTONOMIC_{field.upper()}_{suffix}"


def validate(found: list[Credential]) -> None:
    """Stop start-up on a short token, a token shared by two settings or a name used twice."""
    seen: dict[bytes, Credential] = {}
    names: dict[tuple[Role, str], Credential] = {}
    for cred in found:
        if len(cred.secret) < MIN_LENGTH:
            raise ConfigError(f"{cred.setting}: tokens must be at least {MIN_LENGTH} characters")
        if (other := seen.get(cred.secret)) is not None:
            raise ConfigError(f"{cred.setting}: must differ from {other.setting} (one token per role)")
        if (twin := names.get((cred.role, cred.name))) is not None:
            raise ConfigError(f"{cred.setting}: the name {cred.name!r} is also used by {twin.setting}")
        seen[cred.secret] = cred
        names[(cred.role, cred.name)] = cred


@dataclass(frozen=True)
class Credentials:
    """Every accepted token; `identify` finds the one presented, in constant time per token."""

    all: tuple[Credential, ...]
    generated: tuple[Credential, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, *, announce: bool = True) -> Credentials:
        """Validate the configured tokens; on memory:// generate the missing webhook and operator ones."""
        found = _configured(settings)
        validate(found)
        roles = {cred.role for cred in found}
        missing = [role for role in ("webhook", "operator") if role not in roles]
        if not missing:
            return cls(tuple(found))
        if not settings.redis_url.startswith("memory://"):
            wanted = " and ".join(
                "AUTONOMIC_WEBHOOK_TOKEN" if role == "webhook" else "AUTONOMIC_OPERATOR_TOKENS (name:token,…)"
                for role in missing
            )
            raise ConfigError(
                f"no {' or '.join(missing)} token configured: set {wanted} (or their *_FILE variants); "
                "tokens are generated only for a first run on memory://"
            )
        generated = tuple(
            Credential(role, role, secrets.token_urlsafe(32).encode(), f"generated {role} token")
            for role in ("webhook", "operator")
            if role in missing
        )
        if announce:
            # Lines of at most 80 columns; each `NAME=value` line pastes into a shell as-is.
            generated_roles = " and ".join(c.role for c in generated)
            lines = [
                f"autonomic: FIRST RUN ONLY: no {generated_roles} token set; generated these:",
                *(f"  {c.role.upper()}_TOKEN={c.secret.decode()}" for c in generated),
                "autonomic: they die with this process. Set AUTONOMIC_*_TOKEN (24+ characters,",
                "autonomic: one per role) to keep them; with a real Redis they are required.",
            ]
            print("\n".join(lines), file=sys.stderr, flush=True)
        return cls((*found, *generated), generated)

    def identify(self, presented: bytes | None) -> Credential | None:
        """The credential whose token is `presented`; None for no match (an empty token never matches)."""
        if not presented:
            return None
        match = None
        for cred in self.all:  # compare with every token, so timing does not tell which role matched
            if hmac.compare_digest(presented, cred.secret) and match is None:
                match = cred
        return match

    def named(self, role: Role, name: str) -> Credential | None:
        """The credential of `role` called `name` (sessions look their token up again by name)."""
        for cred in self.all:
            if cred.role == role and cred.name == name:
                return cred
        return None

    def of_role(self, role: Role) -> list[Credential]:
        """Every credential of one role."""
        return [cred for cred in self.all if cred.role == role]
