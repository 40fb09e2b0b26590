"""Feature flags as leases in Redis, read by the LLM application under a documented key schema.

`{prefix}{name}` holds the plain value (with a TTL as safety net),
`{prefix}{name}:leases` the bookkeeping, and every change is published on
`{prefix}changes` (names: app/keys.py `FlagKeys`). All updates run in one Lua script
(flags.lua) so that replicas never interleave; see README "Flag key schema".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.coalesce import CoalescedScript
from app.keys import FlagKeys, Keys

NAME = re.compile(r"[a-z0-9_.-]+")
PAUSED_FLAG = "autonomic.paused"
TRUTHY = frozenset({"1", "true", "yes", "on"})
_SCRIPT = files("app.actions").joinpath("flags.lua").read_text()


class InvalidFlagName(ValueError):
    """A flag name outside `[a-z0-9_.-]+`."""


# The server's copy of autonomic_flags.contract.name_part (the contract test keeps them equal).
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_HEX = frozenset("0123456789abcdef")


def name_part(value: str) -> str:
    """`value` (a user id, say) as part of a flag name, reversibly: `[a-z0-9.-]` stay, `_` becomes
    `__`, and every other byte of its UTF-8 form becomes `_` and two lower-case hex digits
    (`Alice.Bob@x.io` → `_41lice._42ob_40x.io`). `decode_name_part` reverses it."""
    out = []
    for char in value:
        if char == "_":
            out.append("__")
        elif char in _PLAIN:
            out.append(char)
        else:
            out.extend(f"_{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def decode_name_part(part: str) -> str:
    """The value `name_part` encoded; ValueError if `part` is not such an encoding."""
    raw, i = bytearray(), 0
    while i < len(part):
        if part[i] != "_":
            raw += part[i].encode()
            i += 1
        elif part[i + 1 : i + 2] == "_":
            raw += b"_"
            i += 2
        else:
            pair = part[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise ValueError(f"not an encoded flag name part: {part!r}")
            raw.append(int(pair, 16))
            i += 3
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise ValueError(f"not an encoded flag name part: {part!r}") from None


def check_name(name: str) -> str:
    """Return `name` if it is a valid flag name, else raise InvalidFlagName."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > 200:
        raise InvalidFlagName(f"invalid flag name {name!r}: use [a-z0-9_.-]+ (max 200)")
    return name


def alert_holder(fingerprint: str) -> str:
    """The lease holder name of an alert (every episode of it)."""
    return f"alert:{fingerprint}"


def is_truthy(value: str | None) -> bool:
    """True for `1`, `true`, `yes`, `on` (any case)."""
    return value is not None and value.strip().lower() in TRUTHY


def encode_value(value: str | bool | int | float) -> str:
    """The plain string stored for `value` (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise TypeError(f"flag values are str, bool, int or float, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class SetOutcome:
    """What `FlagStore.set` did: whether the lease was taken, and the effective value after."""

    applied: bool
    value: str | None
    expires_at_ms: int | None = None
    refused_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """One holder's claim on a flag."""

    holder: str
    value: str
    expires_at_ms: int
    set_at_ms: int


@dataclass(frozen=True, slots=True)
class FlagState:
    """A flag with live leases: its value, baseline and holders."""

    name: str
    value: str | None
    baseline: str | None
    baseline_absent: bool
    leases: list[Lease]


class FlagStore:
    """Lease-based flag updates over one Redis client."""

    def __init__(self, redis: Redis, *, prefix: str, namespace: str, grace_s: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.namespace = namespace
        self.grace_ms = int(grace_s * 1000)
        # Concurrent executions' lease updates share one round trip (each is still one atomic script).
        self._script = CoalescedScript(redis, _SCRIPT)
        self.keys, self.flag_keys = Keys(namespace), FlagKeys(prefix)
        # flags.lua's KEYS[1..7] (its header): flags and holders found while it runs derive
        # their keys from the last two names; every key shares one hash tag (Redis Cluster).
        self._keys = [
            self.keys.leases,
            self.keys.flag_changes,
            self.keys.flag_changed_at,
            self.keys.flag_history,
            self.keys.reverted,
            self.flag_keys.value(""),
            self.keys.holder(""),
        ]

    async def _run(self, op: str, *args: str | int, now_ms: int | None = None, tombstone: str = "") -> Any:
        argv = [op, self.grace_ms, now_ms or 0, *args]
        keys = [*self._keys, tombstone] if tombstone else self._keys

        return await self._script(keys, argv)

    async def get(self, name: str) -> str | None:
        """The effective value of `name` (None when absent)."""
        value = await self.redis.get(self.flag_keys.value(check_name(name)))
        return str(value) if value is not None else None

    async def held_by(self, holder: str) -> set[str]:
        """Flags `holder` has (or recently had) a lease on."""
        names: Any = await self.redis.smembers(self.keys.holder(holder))
        return set(names)

    @property
    def index_key(self) -> str:
        """The sorted set of flags with leases, by next expiry (flags.lua's `{ns}leases`)."""
        return self.keys.leases

    @property
    def paused_key(self) -> str:
        """The key of the kill switch flag `autonomic.paused`."""
        return self.flag_keys.value(PAUSED_FLAG)

    async def set(
        self,
        name: str,
        value: str,
        *,
        ttl_s: float,
        holder: str,
        tombstone: str = "",
        now_ms: int | None = None,
    ) -> SetOutcome:
        """Take (or renew) `holder`'s lease on `name`; refused if `tombstone` exists."""
        check_name(name)
        ttl_ms = max(1, int(ttl_s * 1000))
        reply = await self._run("set", name, holder, value, ttl_ms, now_ms=now_ms, tombstone=tombstone)
        if reply[0] == "refused":
            return SetOutcome(applied=False, value=None, refused_reason=reply[1])
        return SetOutcome(applied=True, value=reply[1] or None, expires_at_ms=int(reply[2]))

    async def release(self, name: str, holder: str, *, now_ms: int | None = None) -> str | None:
        """End `holder`'s lease on `name`; return the effective value after."""
        reply = await self._run("release", check_name(name), holder, now_ms=now_ms)
        return reply[1] or None

    async def release_holder(self, holder: str, *, now_ms: int | None = None) -> dict[str, str | None]:
        """End every lease `holder` has; return each flag's effective value after."""
        reply = await self._run("release_holder", holder, now_ms=now_ms)
        return {reply[i]: reply[i + 1] or None for i in range(0, len(reply), 2)}

    async def revert(self, name: str, actor: str, *, now_ms: int | None = None) -> tuple[int, str | None]:
        """End every lease on `name` now; return (leases ended, value after)."""
        reply = await self._run("revert", check_name(name), actor, now_ms=now_ms)
        return int(reply[0]), reply[1] or None

    async def renew(self, seen: dict[str, int], *, now_ms: int | None = None) -> int:
        """Extend every live lease of each holder to its TTL past `seen[holder]` (ms); return
        how many leases moved. Expired leases stay expired (the sweeper ends them)."""
        if not seen:
            return 0
        pairs: list[str | int] = []
        for holder, seen_ms in seen.items():
            pairs.extend((holder, seen_ms))
        return int(await self._run("renew", *pairs, now_ms=now_ms))

    async def sweep(self, *, now_ms: int | None = None) -> dict[str, str | None]:
        """End every expired lease; return each touched flag's effective value after."""
        reply = await self._run("sweep", now_ms=now_ms)
        return {reply[i]: reply[i + 1] or None for i in range(0, len(reply), 2)}

    async def active(self) -> list[FlagState]:
        """Every flag with bookkeeping, with its leases (expired ones included until swept)."""
        names: Any = await self.redis.zrange(self.keys.leases, 0, -1)
        if not names:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.get(self.flag_keys.value(name))
            pipe.hgetall(self.flag_keys.leases(name))
        replies = await pipe.execute()
        states = []
        for i, name in enumerate(names):
            value, raw = replies[2 * i], replies[2 * i + 1]
            base = msgspec.json.decode(raw.pop("~baseline", '{"absent": true}'))
            leases = []
            for holder, text in sorted(raw.items()):
                lease = msgspec.json.decode(text)
                leases.append(Lease(holder, lease["v"], int(lease["exp"]), int(lease["at"])))
            states.append(
                FlagState(
                    name=name,
                    value=value,
                    baseline=base.get("v"),
                    baseline_absent=bool(base.get("absent")),
                    leases=sorted(leases, key=lambda lease: -lease.set_at_ms),
                )
            )
        return states
