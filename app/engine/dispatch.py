"""Dispatch: turn one alert notification (or manual trigger) into playbook executions.

For a resolved alert the alert's episode is tombstoned and its flag leases are
released first, then the playbooks declared `on="resolved"|"any"` run; a firing
alert that matches playbooks is tracked for the reconciler. Each execution has a
deterministic id (event key + playbook), so a redelivered entry finds the
finished record and does nothing twice; cooldown, dry-run, the kill switch, the
timeout and retries of TemporaryError are applied here. Flags are state and
pages are events: inside a cooldown a playbook still takes its flag leases while
its events are skipped; while paused it is recorded `refused`, takes no cooldown
and is re-applied on resume (releases and the built-in resolve always run).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from app import metrics, tracing
from app.actions.alertmanager import AlertmanagerClient
from app.actions.flags import FlagStore, alert_holder
from app.actions.lease_origins import LeaseOrigin, LeaseOrigins
from app.actions.outside import Adapters
from app.engine import queue_entry
from app.engine.approvals import ApprovalStore
from app.engine.cooldowns import Cooldowns
from app.engine.executions import ExecutionStore
from app.engine.firing import RECONCILED, FiringAlerts
from app.engine.followups import FollowUps
from app.engine.resolve import RESOLVE
from app.engine.tombstones import Tombstones
from app.engine.triggers import Plan, Trigger, execution_id, operator_holder
from app.errors import ApprovalRejected, AwaitingApproval, PermanentError, TemporaryError
from app.keys import Keys
from app.models import ActionRecord, Alert, Execution
from app.plugins.context import Context, SyncProxy
from app.plugins.facades import FlagActions
from app.plugins.recorder import Recorder
from app.plugins.registry import PlaybookSpec, Registry
from app.plugins.unawaited import AwaitTracker
from app.settings import Settings

log = structlog.get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)
_RETRYABLE = (TemporaryError, TimeoutError, RedisConnectionError, RedisTimeoutError)


class _Retry:
    """Backoff for TemporaryError: its `delay` if given, else exponential with full jitter.

    `offset` counts attempts made before tenacity took over (the first runs without it)."""

    def __init__(self, base: float, cap: float, offset: int = 0) -> None:
        self.base, self.cap, self.offset = base, cap, offset

    def delay(self, exc: BaseException | None, failed_attempts: int) -> float:
        if isinstance(exc, TemporaryError) and exc.delay is not None:
            return min(max(0.0, exc.delay), self.cap)
        ceiling = min(self.cap, self.base * 2 ** (failed_attempts - 1))
        return random.uniform(ceiling / 2, ceiling)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.delay(exc, state.attempt_number + self.offset)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """The settings dispatch applies to every run."""

    dry_run: bool
    playbook_timeout: float
    max_attempts: int
    retry_base_delay: float
    retry_max_delay: float
    default_flag_ttl: float

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatchConfig:
        """The dispatch part of `settings`."""
        return cls(
            dry_run=settings.dry_run,
            playbook_timeout=settings.playbook_timeout,
            max_attempts=settings.max_attempts,
            retry_base_delay=settings.retry_base_delay,
            retry_max_delay=settings.retry_max_delay,
            default_flag_ttl=settings.default_flag_ttl,
        )


class Dispatcher:
    """Runs matching playbooks for alerts and records every execution."""

    def __init__(
        self,
        *,
        registry: Registry,
        config: DispatchConfig,
        adapters: Adapters,
        redis: Redis,
        keys: Keys,
        flags: FlagStore,
        executions: ExecutionStore,
        followups: FollowUps,
        approvals: ApprovalStore,
        firing: FiringAlerts,
        cooldowns: Cooldowns,
        tombstones: Tombstones,
        origins: LeaseOrigins,
        alertmanager: AlertmanagerClient | None = None,
    ) -> None:
        self.approvals = approvals
        self.firing = firing
        # When AUTONOMIC_ALERTMANAGER_URLS is configured: a follow-up asks it whether the alert fires.
        self.alertmanager = alertmanager
        self.adapters = adapters
        self.followups = followups
        self.registry = registry
        # Only for the facades' per-alert state (the PagerDuty incident, the Slack thread).
        self.redis = redis
        self.keys = keys
        self.config = config
        self.flags = flags
        self.executions = executions
        self.cooldowns = cooldowns
        self.tombstones = tombstones
        self.origins = origins

    # -- alerts ---------------------------------------------------------------------------

    async def handle(
        self,
        alert: Alert,
        event_key: str,
        traceparent: str = "",
        *,
        run: str = "",
        trigger: Trigger | None = None,
    ) -> list[Execution]:
        """Process one queued item; return the executions it produced.

        An alert notification runs every matching playbook (a resolved one first
        releases what the alert holds); a follow-up or manual trigger names the
        playbook to `run`."""
        # Each queue entry is handled in its own task, so bound log context ends with it.
        structlog.contextvars.bind_contextvars(fingerprint=alert.fingerprint, alertname=alert.name)
        with tracing.span("dispatch", traceparent or None, alert_status=alert.status):
            if run:
                return [await self._run_named(run, alert, event_key, trigger or Trigger(source="followup"))]
            results: list[Execution] = []
            reason = trigger.reason if trigger else None
            if alert.status == "resolved":
                # Marked when the reconciler resolved it: only such a tombstone is cleared
                # by a re-fire of the same episode (an Alertmanager that lost its state).
                await self.tombstones.mark(alert, reconciled=reason == RECONCILED)
                await self.firing.forget(alert)
                await self.followups.cancel(alert.fingerprint)
                released = await self.run(RESOLVE, alert, event_key, Trigger(source="system", reason=reason))
                if released.actions or released.status != "succeeded":
                    results.append(released)
            specs = self.registry.match(alert)
            # The queue entry's whole trigger (a re-apply's `state_only` above all) reaches each run.
            incoming = trigger or Trigger()
            for spec in specs:
                results.append(await self.run(spec, alert, event_key, incoming))
            if incoming.state_only and any(r.status != "refused" for r in results):
                # Ran (not refused by a pause, which would queue it every pass): a later lapse
                # in this episode may be queued again.
                await self.firing.relapsed(alert)
            if specs and alert.firing:
                # After the runs, so the reconciler knows whether leases should exist. A crash
                # before this leaves the entry unacknowledged: its redelivery tracks it.
                leased = any(a.kind == "flags.set" and a.status == "ok" for ex in results for a in ex.actions)
                await self.firing.track(alert, leased=leased)
            return results

    async def _run_named(self, name: str, alert: Alert, event_key: str, trigger: Trigger) -> Execution:
        spec = self.registry.get(name)
        if spec is None:
            execution = self._new_execution(
                execution_id(event_key, name), name, alert, event_key, trigger, False
            )
            execution.error = f"unknown playbook {name!r}"
            return await self._finish(execution, "failed")
        if trigger.source == "followup" and await self.tombstones.exists(alert):
            execution = self._new_execution(
                execution_id(event_key, name), name, alert, event_key, trigger, False
            )
            execution.skipped_reason = "the alert resolved before the follow-up was due"
            return await self._finish(execution, "skipped")
        if trigger.source == "followup" and await self._inactive(alert):
            execution = self._new_execution(
                execution_id(event_key, name), name, alert, event_key, trigger, False
            )
            execution.skipped_reason = "Alertmanager no longer reports the alert active"
            return await self._finish(execution, "skipped")
        return await self.run(spec, alert, event_key, trigger)

    async def _inactive(self, alert: Alert) -> bool:
        """True only if Alertmanager answered and does not report the alert active (when no
        Alertmanager is configured or none answers, a follow-up runs: paging errs on the safe side)."""
        if self.alertmanager is None:
            return False
        return await self.alertmanager.is_active(alert.fingerprint) is False

    # -- playbooks ------------------------------------------------------------------------

    def _context(
        self, spec: PlaybookSpec, alert: Alert, ex_id: str, recorder: Recorder, trigger: Trigger
    ) -> Context:
        params: BaseModel | None = None
        if spec.params is not None:
            params = spec.params.model_validate(trigger.params)
        manual = trigger.source == "manual"
        holder = operator_holder(trigger.actor) if manual else alert_holder(alert.fingerprint)
        tombstone = "" if manual else self.tombstones.key(alert)
        parts: dict[str, Any] = {
            "recorder": recorder,
            "alert": alert,
            "adapters": self.adapters,
            "redis": self.redis,
            "keys": self.keys,
            "tombstone": tombstone,
        }

        async def schedule(key: str, playbook: str, delay: float) -> dict[str, Any]:
            if self.registry.get(playbook) is None:
                raise PermanentError(f"follow-up names unknown playbook {playbook!r}")
            return await self.followups.schedule(key, playbook, alert, delay)

        return Context(
            alert=alert,
            execution_id=ex_id,
            playbook=spec.name,
            recorder=recorder,
            flags=FlagActions(
                self.flags,
                recorder,
                holder=holder,
                tombstone=tombstone,
                default_ttl=self.config.default_flag_ttl,
                origins=self.origins,
                origin=LeaseOrigin(
                    execution_id=ex_id,
                    playbook=spec.name,
                    source=trigger.source,
                    alertname=alert.labels.get("alertname", ""),
                    labels=dict(alert.labels),
                    fingerprint=alert.fingerprint,
                    generator_url=alert.generator_url,
                    external_url=alert.external_url,
                    actor=trigger.actor if manual else None,
                    reason=trigger.reason if manual else None,
                ),
            ),
            facade_parts=parts,
            schedule=schedule,
            params=params,
        )

    async def _cooldown_blocks(self, spec: PlaybookSpec, alert: Alert, ex_id: str) -> bool:
        """Take the cooldown slot for (playbook, labels); True if another execution holds it."""
        if not spec.cooldown:
            return False
        return await self.cooldowns.take(spec.name, alert, ex_id, spec.cooldown)

    async def run(self, spec: PlaybookSpec, alert: Alert, event_key: str, trigger: Trigger) -> Execution:
        """Run one playbook for one alert, exactly once per (event, playbook)."""
        ex_id = execution_id(event_key, spec.name)
        # One round trip: an earlier record, actions done by an earlier attempt, the kill switch.
        existing, completed, paused = await self.executions.prior(ex_id, self.flags.paused_key)
        if existing is not None and existing.final:
            return existing
        execution = existing or self._new_execution(ex_id, spec.name, alert, event_key, trigger, spec.dry_run)
        structlog.contextvars.bind_contextvars(execution_id=ex_id, playbook=spec.name)
        with tracing.span(f"playbook {spec.name}", playbook=spec.name, execution_id=ex_id):
            execution.trace_id = tracing.current_trace_id()
            # The built-in resolve only restores baselines: it runs even while paused.
            paused = paused and spec is not RESOLVE
            events_blocked = None
            # A paused run takes no cooldown slot: the alert is mitigated in full on resume.
            cools = not paused and trigger.source != "manual"
            if trigger.state_only:
                events_blocked = "re-applied state only"
            elif cools and await self._cooldown_blocks(spec, alert, ex_id):
                events_blocked = f"cooldown {spec.cooldown:g}s"
            if events_blocked and spec.approval:  # never runs without its approval
                execution.skipped_reason = events_blocked
                return await self._finish(execution, "skipped")

            async def persist(record: ActionRecord) -> None:
                await self.executions.complete_action(ex_id, record)

            recorder = Recorder(
                dry_run=execution.dry_run,
                paused=paused,
                completed=completed,
                persist=persist,
                execution_id=ex_id,
                redact=self.adapters.redact,
                decisions=lambda index: self.approvals.decision(ex_id, index),
                events_blocked=events_blocked,
            )
            try:
                ctx = self._context(spec, alert, ex_id, recorder, trigger)
            except ValueError as exc:
                execution.error = f"invalid params: {exc}"
                return await self._finish(execution, "failed")
            try:
                await self._attempts(spec, alert, ctx, execution)
            except AwaitingApproval as gate:
                execution.actions = recorder.records
                return await self._park(spec, alert, event_key, trigger, execution, gate)
            except ApprovalRejected as exc:
                execution.actions = recorder.records
                execution.error = str(exc)
                return await self._finish(execution, "rejected")
            except Exception as exc:
                execution.actions = recorder.records
                execution.error = self.adapters.redact(_describe(exc))
                log.warning("playbook failed", error=execution.error, attempts=execution.attempts)
                return await self._finish(execution, "failed")
            execution.actions = recorder.records
            if spec is RESOLVE and not execution.actions:
                execution.status = "succeeded"
                return execution
            if paused:
                execution.skipped_reason = "paused: autonomic.paused is set"
                # Resuming re-applies what was refused, no more: a state-only re-apply is not
                # deferred (the reconciler finds the leases lapsed again), a follow-up only itself.
                if alert.firing and trigger.source != "manual" and not trigger.state_only:
                    named = spec.name if trigger.source == "followup" else ""
                    await self.firing.defer(alert, playbook=named)
                return await self._finish(execution, "refused")
            if events_blocked:
                execution.skipped_reason = f"{events_blocked}: events skipped, flag leases applied"
            # A failed notification (best-effort) does not fail the run, but must show.
            return await self._finish(
                execution, "succeeded_with_failures" if recorder.failures else "succeeded"
            )

    def _new_execution(
        self, ex_id: str, playbook: str, alert: Alert, event_key: str, trigger: Trigger, spec_dry_run: bool
    ) -> Execution:
        return Execution(
            id=ex_id,
            playbook=playbook,
            source=trigger.source,
            alert=alert,
            event_key=event_key,
            dry_run=trigger.dry_run or spec_dry_run or self.config.dry_run,
            actor=trigger.actor,
            reason=trigger.reason,
            params=trigger.params,
            started_at=time.time(),
        )

    async def _attempts(self, spec: PlaybookSpec, alert: Alert, ctx: Context, execution: Execution) -> None:
        try:
            await self._attempt(spec, alert, ctx, execution)  # most runs succeed at once
            return
        except _RETRYABLE as first:
            if self.config.max_attempts < 2:
                raise
            failure: BaseException = first
        backoff = _Retry(self.config.retry_base_delay, self.config.retry_max_delay, offset=1)
        await asyncio.sleep(backoff.delay(failure, 1))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts - 1),
            wait=backoff,
            retry=retry_if_exception_type(_RETRYABLE),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._attempt(spec, alert, ctx, execution)

    async def _attempt(self, spec: PlaybookSpec, alert: Alert, ctx: Context, execution: Execution) -> None:
        timeout = spec.timeout or self.config.playbook_timeout
        execution.attempts += 1
        ctx.recorder.restart()
        try:
            async with asyncio.timeout(timeout):  # no extra task per run, unlike wait_for
                await self._call(spec, alert, ctx)
        except TemporaryError as exc:
            log.info("playbook will retry", error=str(exc), attempt=execution.attempts)
            raise
        except TimeoutError:
            raise TimeoutError(f"playbook timed out after {timeout:g}s") from None

    async def _park(
        self,
        spec: PlaybookSpec,
        alert: Alert,
        event_key: str,
        trigger: Trigger,
        execution: Execution,
        gate: AwaitingApproval,
    ) -> Execution:
        """Stop at an approval gate: record the wait and park the entry until a decision."""
        fields = queue_entry.encode(
            event_key, msgspec.json.encode(alert).decode(), run=spec.name, trigger=trigger.to_meta()
        )
        await self.approvals.request(
            execution_id=execution.id,
            playbook=spec.name,
            index=gate.index,
            description=gate.description,
            alertname=alert.name,
            fields=fields,
        )
        execution.status = "awaiting_approval"
        execution.skipped_reason = gate.description
        await self.executions.start(execution)
        log.info("execution awaiting approval", execution_id=execution.id, gate=gate.description)
        return execution

    async def _call(self, spec: PlaybookSpec, alert: Alert, ctx: Context | Any) -> None:
        if spec.approval:
            await ctx.approval(f"run playbook {spec.name}")
        if spec.is_async:
            await spec.fn(alert, ctx)
        else:
            loop = asyncio.get_running_loop()
            await asyncio.to_thread(spec.fn, alert, SyncProxy(ctx, loop))

    async def _finish(self, execution: Execution, status: str) -> Execution:
        execution.status = status  # type: ignore[assignment]
        execution.finished_at = finished = time.time()
        await self.executions.finish(execution)
        # A dry run that went through is its own outcome on dashboards: it changed nothing.
        outcome = "dry_run" if status == "succeeded" and execution.dry_run else status
        metrics.counter(metrics.EXECUTIONS, execution.playbook, outcome).inc()
        if execution.started_at:
            metrics.histogram(metrics.EXECUTION_DURATION, execution.playbook, outcome).observe(
                max(0.0, finished - execution.started_at)
            )
        if _stdlib_log.isEnabledFor(logging.INFO):  # skip building the event on the hot path
            log.info(
                "execution finished",
                execution_id=execution.id,
                status=status,
                actions=len(execution.actions),
                dry_run=execution.dry_run,
            )
        return execution

    # -- simulation -----------------------------------------------------------------------

    async def plan(self, alert: Alert, params: dict[str, Any] | None = None) -> list[Plan]:
        """What each matching playbook would do for `alert`; nothing is changed or recorded.

        A resolved alert first shows the built-in release, as dispatch runs it. A playbook
        that raises is planned with its error; so is one that forgot to await an action."""
        plans = []
        candidates = self.registry.match(alert)
        if alert.status == "resolved":
            candidates = [RESOLVE, *candidates]
        for spec in candidates:
            blocked = None
            if spec.cooldown and await self.cooldowns.active(spec.name, alert):
                blocked = f"cooldown {spec.cooldown:g}s"
            recorder = Recorder(
                dry_run=True,
                paused=False,
                completed={},
                persist=None,
                redact=self.adapters.redact,
                events_blocked=blocked,
            )
            error = None
            tracker = AwaitTracker()
            try:
                ctx = self._context(
                    spec, alert, "simulation", recorder, Trigger(dry_run=True, params=params or {})
                )
                # Sync playbooks get a SyncProxy that awaits for them; only async ones can forget.
                target = tracker.wrap(ctx) if spec.is_async else ctx
                await asyncio.wait_for(
                    self._call(spec, alert, target), spec.timeout or self.config.playbook_timeout
                )
            except Exception as exc:
                error = _describe(exc)
            forgotten = tracker.never_awaited()
            if forgotten:
                error = "; ".join([*forgotten, *([error] if error else [])])
            # Inside a cooldown the flag leases are still taken (state); only a gated playbook waits.
            runs = error is None and not (blocked and spec.approval)
            skipped = f"{blocked}: events would be skipped" if blocked else None
            plans.append(Plan(spec.name, runs, skipped, recorder.records, error))
        return plans


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TemporaryError | PermanentError | TimeoutError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
