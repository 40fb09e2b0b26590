"""Unit-test a playbook without a server (as `kopf.testing` does for operators).

    from app.testing import PlaybookKit, alert

    async def test_cost_spike() -> None:
        async with PlaybookKit("playbooks/cost.py") as kit:
            outcome = await kit.send(alert("CostSpike"))
        assert ("flags.set", "llm.model_tier") in outcome.calls
        assert outcome.flags["llm.model_tier"] == "economy"

A kit loads playbooks the way the service does (files and directories by path, modules and
decorated functions through `Registry.register`) and runs them through the engine's own
dispatcher on the embedded `memory://` Redis the product ships, in a namespace of its own:
cooldowns, dry-run, retries, flag leases and the built-in resolve all behave as in the
service, and state carries over from one call to the next within a kit. `plan` shows what
playbooks would do and changes nothing (`autonomic simulate`). Outside systems (Kubernetes,
PagerDuty, Slack, HTTP notifications) are never called: their actions are recorded `dry_run`
with the parameters the playbook passed. The pytest fixture `playbook_kit` (plugin
`app.testing.pytest_plugin`, registered under `pytest11`) builds kits and closes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import msgspec
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.actions.outside import Adapters
from app.engine.runtime import Runtime
from app.engine.triggers import Trigger
from app.errors import PlaybookError
from app.models import ActionRecord, Alert, Execution, decode_payload, labels_fingerprint
from app.plugins import loader
from app.plugins.registry import PlaybookFn, Registry
from app.settings import Settings, builtin_playbook_dir

__all__ = ["Outcome", "PlaybookKit", "Run", "alert", "resolved"]

Playbooks = str | Path | ModuleType | PlaybookFn
Notification = Alert | Mapping[str, Any] | bytes | str | Path
NO_OUTSIDE_SYSTEMS = "app.testing calls no outside system"


def alert(
    name: str,
    status: str = "firing",
    *,
    annotations: Mapping[str, str] | None = None,
    starts_at: str | None = None,
    **labels: str,
) -> Alert:
    """An Alert as Alertmanager would send it: `alertname=name` plus `labels`, a fingerprint of
    the labels, and `starts_at` now (a new firing episode) unless given."""
    if status not in ("firing", "resolved"):
        raise ValueError(f"status must be 'firing' or 'resolved', not {status!r}")
    all_labels = {"alertname": name, **labels}
    return Alert(
        status="firing" if status == "firing" else "resolved",
        labels=all_labels,
        annotations=dict(annotations or {}),
        starts_at=starts_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        fingerprint=labels_fingerprint(all_labels),
    )


def resolved(firing: Alert) -> Alert:
    """The resolved notification of `firing` (same fingerprint and episode)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return msgspec.structs.replace(firing, status="resolved", ends_at=now)


@dataclass(frozen=True)
class Run:
    """What one playbook did (`send`, `trigger`) or would do (`plan`) for one alert.

    `status` is the execution's (`succeeded`, `failed`, `skipped`, `awaiting_approval`...) or,
    for a plan, `would run` / `would not run` / `would fail`."""

    playbook: str
    status: str
    actions: list[ActionRecord]
    error: str | None = None
    skipped_reason: str | None = None
    execution_id: str | None = None

    @classmethod
    def of(cls, execution: Execution) -> Run:
        """What a finished (or parked, or skipped) execution did."""
        return cls(
            execution.playbook,
            execution.status,
            list(execution.actions),
            execution.error,
            execution.skipped_reason,
            execution.id,
        )

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(kind, target) of each action, in order: `("flags.set", "cache.mode")`."""
        return [(a.kind, a.target) for a in self.actions]


@dataclass(frozen=True)
class Outcome:
    """The runs one call produced, and the flags active in the kit's Redis afterwards
    (name → value; unchanged by a `plan`)."""

    alerts: list[Alert]
    runs: list[Run]
    flags: dict[str, str] = field(default_factory=dict)

    @property
    def actions(self) -> list[ActionRecord]:
        """Every action of every run, in order."""
        return [action for run in self.runs for action in run.actions]

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(kind, target) of every action of every run, in order."""
        return [(a.kind, a.target) for a in self.actions]

    @property
    def kinds(self) -> list[str]:
        """The kind of every action of every run, in order: `["flags.set", "slack.post"]`."""
        return [a.kind for a in self.actions]

    @property
    def playbooks(self) -> list[str]:
        """The playbooks that ran (or would run), in order, the built-in resolve included."""
        return [run.playbook for run in self.runs]

    def run(self, playbook: str) -> Run:
        """The (first) run of `playbook`; KeyError when it did not run."""
        for run in self.runs:
            if run.playbook == playbook:
                return run
        raise KeyError(f"{playbook!r} did not run; ran: {self.playbooks}")


class PlaybookKit:
    """Playbooks loaded as the service loads them, run by the real dispatcher on an embedded
    Redis of their own. Use `async with`, or call `close()`."""

    def __init__(self, *playbooks: Playbooks, builtins: bool = False, **settings: Any) -> None:
        """`playbooks`: files or directories (loaded by path), modules, decorated functions;
        `builtins`: also the shipped playbooks; `settings`: `Settings` fields to override
        (`dry_run=True`, `max_attempts=1`...). The environment (`AUTONOMIC_*`) is not read."""
        registry = Registry()
        if builtins:
            directory = builtin_playbook_dir()
            if directory is None:
                raise PlaybookError("the built-in playbooks are not installed")
            loader.load_directories([directory], registry)
        for item in playbooks:
            _load(item, registry)
        namespace = f"kit-{uuid.uuid4().hex[:12]}:"
        options: dict[str, Any] = {
            "redis_url": "memory://",
            "redis_namespace": namespace,
            "flag_prefix": namespace + "flags:",
            "builtin_playbooks": False,
            "playbook_entry_points": False,
            **settings,
        }
        if not str(options["redis_url"]).startswith("memory://"):
            raise ValueError("a PlaybookKit runs on the embedded memory:// Redis only")
        self.settings = _KitSettings(**options)
        self.registry = registry
        # Never the real adapters: every outside action is recorded as a dry run.
        no_outside = Adapters(
            missing=dict.fromkeys(("kube", "pagerduty", "slack", "notify", "notify.user"), NO_OUTSIDE_SYSTEMS)
        )
        self._runtime = Runtime.build(self.settings, registry, adapters=no_outside)

    async def __aenter__(self) -> PlaybookKit:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Drop what this kit wrote and close its Redis clients."""
        redis = self._runtime.clients.commands
        for prefix in (self.settings.redis_namespace, self.settings.flag_prefix):
            keys = [key async for key in redis.scan_iter(match=prefix + "*", count=1000)]
            if keys:
                await redis.delete(*keys)
        await self._runtime.clients.close()

    @property
    def names(self) -> list[str]:
        """The loaded playbooks' names, in load order."""
        return [spec.name for spec in self.registry]

    async def send(self, notification: Notification) -> Outcome:
        """Handle `notification` (an Alert, or an Alertmanager webhook payload as a dict, JSON
        text or bytes, or a file) as a worker would: a firing alert runs the playbooks that
        match it; a resolved one first releases what the alert holds (`autonomic.resolve`)."""
        alerts = _alerts(notification)
        runs: list[Run] = []
        for item in alerts:
            runs += [
                Run.of(execution) for execution in await self._runtime.dispatcher.handle(item, item.event_key)
            ]
        return Outcome(alerts, runs, await self.flags())

    async def plan(self, notification: Notification, params: Mapping[str, Any] | None = None) -> Outcome:
        """What the matching playbooks would do for `notification`; nothing changes."""
        alerts = _alerts(notification)
        runs: list[Run] = []
        for item in alerts:
            for plan in await self._runtime.dispatcher.plan(item, dict(params or {})):
                state = "would fail" if plan.error else "would run" if plan.would_run else "would not run"
                runs.append(Run(plan.playbook, state, list(plan.actions), plan.error, plan.skipped_reason))
        return Outcome(alerts, runs, await self.flags())

    async def trigger(
        self,
        playbook: str,
        target: Alert | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        actor: str = "operator",
        reason: str | None = None,
        dry_run: bool = False,
        follow_up: bool = False,
    ) -> Outcome:
        """Run `playbook` by name: as an operator's manual trigger (its leases held by the
        operator), or with `follow_up=True` as a follow-up that fell due for `target` (skipped
        when that alert has resolved since)."""
        if self.registry.get(playbook) is None:
            raise KeyError(f"no playbook named {playbook!r}; loaded: {self.names}")
        subject = target or alert(f"manual:{playbook}")
        key = f"{'followup' if follow_up else 'manual'}:{uuid.uuid4().hex}"
        trigger = (
            Trigger(source="followup")
            if follow_up
            else Trigger(
                source="manual", actor=actor, reason=reason, dry_run=dry_run, params=dict(params or {})
            )
        )
        execution = (await self._runtime.dispatcher.handle(subject, key, run=playbook, trigger=trigger))[0]
        return Outcome([subject], [Run.of(execution)], await self.flags())

    async def flags(self) -> dict[str, str]:
        """Flags with a live lease in this kit's Redis: name → value."""
        return {
            state.name: state.value
            for state in await self._runtime.flags.active()
            if state.leases and state.value is not None
        }


class _KitSettings(Settings):
    """Settings from the kit's arguments only: a developer's AUTONOMIC_* environment (a real
    Redis, credentials, AUTONOMIC_DRY_RUN) never leaks into a unit test."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _load(item: Playbooks, registry: Registry) -> None:
    if isinstance(item, str | Path):
        path = Path(item)
        if path.is_dir():
            loader.load_directories([path], registry)
        elif path.is_file():
            loader.load_file(path, registry)
        else:
            raise PlaybookError(f"{path}: no such playbook file or directory")
    else:
        registry.register(item)


def _alerts(notification: Notification) -> list[Alert]:
    if isinstance(notification, Alert):
        return [notification]
    if isinstance(notification, Path):
        body = notification.read_bytes()
    elif isinstance(notification, bytes):
        body = notification
    elif isinstance(notification, str):
        body = notification.encode()
    else:
        body = json.dumps(notification).encode()
    payload = decode_payload(body)
    return [Alert.from_webhook(item, payload) for item in payload.alerts]
