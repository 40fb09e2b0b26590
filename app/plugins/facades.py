"""What `ctx.flags`, `ctx.kube` and `ctx.pagerduty` do for a playbook: turn a call into a
recorded action on the matching adapter, or a dry-run record when that system is not
configured. Per-alert state that the resolve needs (the PagerDuty incident) is kept in
Redis. The notification facades (`ctx.slack`, `ctx.notify`) are in messaging.py.

A resolve can arrive while a firing run is still paging: it marks the episode's tombstone,
then looks for the incident. So the firing run records the incident, then looks for the
tombstone; whichever of the two looks second finds the other's mark and resolves the
incident. A first try at paging for an episode that has already resolved is refused; a
resumed one (retried, or reclaimed after a crash) may already have paged, so it resolves the
incident instead of paging again. A late resolve that fails fails the attempt (retried).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from redis.asyncio import Redis

from app.actions.flags import FlagStore, check_name, encode_value
from app.actions.kube import Kind
from app.actions.lease_origins import LeaseOrigin, LeaseOrigins
from app.actions.pagerduty import dedup_key, severity_of
from app.durations import parse_duration
from app.errors import GuardrailRefused, PermanentError, TemporaryError
from app.keys import Keys
from app.models import ActionRecord, Alert
from app.plugins.recorder import Recorder

if TYPE_CHECKING:
    from app.actions.outside import Adapters

STATE_TTL_S = 7 * 86400
log = structlog.get_logger(__name__)


class SystemFacade:
    """Common plumbing: the recorder, the alert, the adapters and per-alert Redis state."""

    system = ""

    def __init__(
        self,
        *,
        recorder: Recorder,
        alert: Alert,
        adapters: Adapters,
        redis: Redis,
        keys: Keys,
        tombstone: str = "",
    ) -> None:
        self._recorder = recorder
        self._alert = alert
        self._adapters = adapters
        self._redis = redis
        self._keys = keys
        # The key marking this alert episode resolved ("" for manual runs, which never end so).
        self._tombstone = tombstone

    def _unavailable(self) -> str | None:
        reason = self._adapters.missing.get(self.system)
        return f"{self.system} not configured: {reason}" if reason else None

    async def _episode_resolved(self) -> bool:
        """True when this run acts on a firing alert whose episode has resolved since (the
        resolve marks the tombstone before it looks for what the firing run left)."""
        if not (self._alert.firing and self._tombstone):
            return False
        return bool(await self._redis.exists(self._tombstone))


class FlagActions:
    """`ctx.flags`: leases on feature flags, held by the alert (or the operator for manual runs)."""

    def __init__(
        self,
        store: FlagStore,
        recorder: Recorder,
        *,
        holder: str,
        tombstone: str,
        default_ttl: float,
        origins: LeaseOrigins | None = None,
        origin: LeaseOrigin | None = None,
    ) -> None:
        self._store = store
        self._origins = origins
        self._origin = origin
        self._recorder = recorder
        self._holder = holder
        self._tombstone = tombstone
        self._default_ttl = default_ttl

    async def get(self, name: str) -> str | None:
        """The flag's effective value now (None when absent)."""
        return await self._store.get(name)

    async def set(
        self,
        name: str,
        value: str | bool | int | float,
        ttl: str | float | None = None,
        *,
        approval: bool = False,
    ) -> ActionRecord:
        """Hold `name` at `value` until the alert resolves or `ttl` passes (default 1h)."""
        check_name(name)
        text = encode_value(value)
        ttl_s = parse_duration(ttl) if ttl is not None else self._default_ttl
        if ttl_s <= 0:
            raise PermanentError(f"flag TTL must be positive, not {ttl!r}")

        async def act(_: str) -> dict[str, Any]:
            outcome = await self._store.set(
                name, text, ttl_s=ttl_s, holder=self._holder, tombstone=self._tombstone
            )
            if not outcome.applied:
                raise GuardrailRefused(outcome.refused_reason or "refused")
            if self._origins is not None and self._origin is not None:
                await self._origins.record(self._holder, name, self._origin)
            return {"effective": outcome.value, "expires_at_ms": outcome.expires_at_ms}

        params = {"value": text, "ttl_s": ttl_s, "holder": self._holder}
        gate = f"set flag {name}={text}" if approval else None
        return await self._recorder.run("flags.set", name, params, act, approval=gate, idempotent=True)

    async def release(self, name: str) -> ActionRecord:
        """End this holder's lease on `name` now."""
        check_name(name)

        async def act(_: str) -> dict[str, Any]:
            return {"effective": await self._store.release(name, self._holder)}

        return await self._recorder.run("flags.release", name, {"holder": self._holder}, act, idempotent=True)

    async def held(self) -> list[str]:
        """Names of the flags this holder has leases on."""
        return sorted(await self._store.held_by(self._holder))

    async def release_all(self, held: list[str] | None = None) -> ActionRecord:
        """End every lease this holder has (what a resolved alert does); `held`, the names from
        `held()`, only goes into the record, so a simulation shows what would be released."""

        async def act(_: str) -> dict[str, Any]:
            return {"released": await self._store.release_holder(self._holder)}

        params: dict[str, Any] = {"flags": held} if held else {}
        return await self._recorder.run("flags.release_all", self._holder, params, act, idempotent=True)


class KubeActions(SystemFacade):
    """`ctx.kube`: workload restarts, pod deletion and scaling, behind the guardrails."""

    system = "kube"

    async def restart(self, kind: Kind, name: str, namespace: str, *, approval: bool = False) -> ActionRecord:
        """Rollout restart of a Deployment / StatefulSet / DaemonSet, as `kubectl rollout restart`."""
        kube = self._adapters.kube

        async def act(key: str) -> Any:
            assert kube is not None
            return await kube.restart(kind, name, namespace, key=key)

        target = f"{namespace}/{kind}/{name}"
        gate = f"restart {target}" if approval else None
        return await self._recorder.run(
            "kube.restart", target, {}, act, unavailable=self._unavailable(), approval=gate
        )

    async def scale(
        self,
        kind: Kind,
        name: str,
        namespace: str,
        replicas: int,
        *,
        allow_zero: bool = False,
        approval: bool = False,
    ) -> ActionRecord:
        """Set a workload's replica count (to 0 only with `allow_zero=True`)."""
        kube = self._adapters.kube

        async def act(key: str) -> Any:
            assert kube is not None
            return await kube.scale(kind, name, namespace, replicas, key=key, allow_zero=allow_zero)

        target = f"{namespace}/{kind}/{name}"
        return await self._recorder.run(
            "kube.scale",
            target,
            {"replicas": replicas, "allow_zero": allow_zero},
            act,
            unavailable=self._unavailable(),
            approval=f"scale {target} to {replicas}" if approval else None,
        )

    async def delete_pods(
        self,
        namespace: str,
        *,
        names: list[str] | None = None,
        labels: dict[str, str] | None = None,
        max_count: int = 1,
        approval: bool = False,
    ) -> ActionRecord:
        """Delete pods by name or equality labels, at most `max_count` (and the configured cap)."""
        kube = self._adapters.kube

        async def act(key: str) -> Any:
            assert kube is not None
            return await kube.delete_pods(namespace, names=names, labels=labels, max_count=max_count, key=key)

        async def resolve(key: str, intent: ActionRecord) -> Any:
            # Pods created since the interrupted call are the replacements: spare them.
            assert kube is not None
            return await kube.delete_pods(
                namespace,
                names=names,
                labels=labels,
                max_count=max_count,
                key=key,
                created_before=intent.started_at,
            )

        params = {"names": names, "labels": labels, "max_count": max_count}
        return await self._recorder.run(
            "kube.delete_pods",
            namespace,
            params,
            act,
            unavailable=self._unavailable(),
            approval=f"delete pods in {namespace}" if approval else None,
            resolve=resolve,
        )


class PagerDutyActions(SystemFacade):
    """`ctx.pagerduty`: page on-call; the incident is keyed by the alert's fingerprint."""

    system = "pagerduty"

    async def trigger(
        self,
        summary: str | None = None,
        *,
        severity: str | None = None,
        details: dict[str, Any] | None = None,
        approval: bool = False,
    ) -> ActionRecord:
        """Open (or update) this alert's incident; it is resolved when the alert resolves."""
        alert, pd = self._alert, self._adapters.pagerduty
        key = dedup_key(alert.fingerprint)
        text = summary or alert.annotations.get("summary") or alert.text
        level = severity or severity_of(alert.labels)
        links = (
            [{"href": alert.generator_url, "text": "Source"}]
            if alert.generator_url.startswith("http")
            else []
        )
        runbook = alert.annotations.get("runbook_url", "")
        if runbook.startswith("http"):
            links.append({"href": runbook, "text": "Runbook"})

        incident = self._keys.incident(alert.fingerprint)
        resumed = False

        async def close_late(result: dict[str, Any]) -> dict[str, Any]:
            assert pd is not None
            try:
                await pd.resolve(key)
            except Exception as exc:  # retried: the next attempt resolves without paging again
                raise TemporaryError(f"the alert resolved while paged; resolving failed: {exc}") from exc
            await self._redis.delete(incident)
            return {**result, "resolved": "the alert resolved while it was paged"}

        async def act(_: str) -> Any:
            assert pd is not None
            # Only a first try may be refused: a resumed one may already have paged.
            if not resumed and await self._episode_resolved():
                raise GuardrailRefused("the alert resolved before it was paged")
            result = await pd.trigger(
                key=key,
                summary=f"[{alert.name}] {text}",
                source=alert.labels.get("service") or alert.labels.get("instance") or "autonomic",
                severity=level,
                custom_details={"labels": alert.labels, "annotations": alert.annotations, **(details or {})},
                links=links,
            )
            await self._redis.set(incident, key, ex=STATE_TTL_S)
            # The resolve may have looked for the incident before the line above.
            return await close_late(result) if await self._episode_resolved() else result

        async def resume(_: str, intent: ActionRecord) -> Any:
            # An earlier try stopped inside this action (maybe after paging, maybe after a
            # late resolve): once the episode has resolved, resolve, never page again.
            nonlocal resumed
            resumed = True
            return await close_late({"dedup_key": key}) if await self._episode_resolved() else None

        params = {"dedup_key": key, "severity": level, "summary": text}
        return await self._recorder.run(
            "pagerduty.trigger",
            key,
            params,
            act,
            unavailable=self._unavailable(),
            approval=f"page on-call: {text}" if approval else None,
            resolve=resume,
        )

    async def acknowledge(self) -> ActionRecord:
        """Acknowledge this alert's incident."""
        return await self._simple("acknowledge")

    async def resolve(self) -> ActionRecord:
        """Resolve this alert's incident."""
        return await self._simple("resolve")

    async def _simple(self, action: str) -> ActionRecord:
        pd, key = self._adapters.pagerduty, dedup_key(self._alert.fingerprint)

        async def act(_: str) -> Any:
            assert pd is not None
            result = await (pd.acknowledge(key) if action == "acknowledge" else pd.resolve(key))
            if action == "resolve":
                await self._redis.delete(self._keys.incident(self._alert.fingerprint))
            return result

        return await self._recorder.run(f"pagerduty.{action}", key, {}, act, unavailable=self._unavailable())

    async def paged(self) -> bool:
        """True if this alert has an open incident we triggered."""
        return bool(await self._redis.exists(self._keys.incident(self._alert.fingerprint)))
