"""Dispatch on its own (no server, no workers): exactly once per (event, playbook), the
cooldown (events skipped, leases taken), the kill switch, retries, resolve with its tombstone
and released leases, named runs and follow-ups, and simulation."""

from __future__ import annotations

from typing import Any

from app.engine.resolve import RESOLVE_PLAYBOOK
from app.engine.runtime import Runtime
from app.engine.triggers import Trigger, execution_id
from app.errors import TemporaryError
from app.models import Alert
from app.plugins.registry import Registry
from tests.unit.conftest import make_alert
from tests.unit.engine.conftest import spec


async def test_a_redelivered_event_does_not_run_the_playbook_twice(
    runtime: Runtime, registry: Registry
) -> None:
    calls: list[str] = []

    async def pb(alert: Alert, ctx: Any) -> None:
        calls.append(alert.fingerprint)
        await ctx.act("custom.event", "target", lambda: _noop())

    registry.add(spec("pb", pb))
    (first,) = await runtime.dispatcher.handle(make_alert(), "event-1")
    (again,) = await runtime.dispatcher.handle(make_alert(), "event-1")
    assert first.status == "succeeded" and first.id == execution_id("event-1", "pb")
    assert again == first and calls == ["fp1"]
    assert [a.kind for a in first.actions] == ["custom.event"]
    assert await runtime.executions.get(first.id) == first


async def test_cooldown_skips_events_but_takes_flag_leases(runtime: Runtime, registry: Registry) -> None:
    async def pb(alert: Alert, ctx: Any) -> None:
        await ctx.flags.set("llm.mode", "cheap", "10m")
        await ctx.act("custom.page", "oncall", lambda: _noop())

    registry.add(spec("pb", pb, cooldown=600))
    (first,) = await runtime.dispatcher.handle(make_alert(), "event-1")
    (second,) = await runtime.dispatcher.handle(make_alert(fingerprint="fp2"), "event-2")
    assert [a.status for a in first.actions] == ["ok", "ok"]
    assert second.status == "succeeded"
    assert [(a.kind, a.status) for a in second.actions] == [("flags.set", "ok"), ("custom.page", "skipped")]
    assert second.skipped_reason == "cooldown 600s: events skipped, flag leases applied"
    assert await runtime.flags.held_by("alert:fp2") == {"llm.mode"}


async def test_a_paused_run_is_refused_and_deferred(runtime: Runtime, registry: Registry) -> None:
    async def pb(alert: Alert, ctx: Any) -> None:
        await ctx.flags.set("llm.mode", "cheap")

    registry.add(spec("pb", pb, cooldown=600))
    await runtime.pause.pause("maintenance", "alice")
    (execution,) = await runtime.dispatcher.handle(make_alert(), "event-1")
    assert execution.status == "refused"
    assert [a.status for a in execution.actions] == ["refused"]
    assert await runtime.firing.deferred() == ["fp1"]
    await runtime.pause.resume("alice")
    (after,) = await runtime.dispatcher.handle(make_alert(), "event-2")
    assert after.status == "succeeded"  # the paused run took no cooldown slot


async def test_temporary_errors_are_retried_then_fail(runtime: Runtime, registry: Registry) -> None:
    tries: list[int] = []

    async def flaky(alert: Alert, ctx: Any) -> None:
        tries.append(1)
        if len(tries) < 2:
            raise TemporaryError("upstream 503")

    async def broken(alert: Alert, ctx: Any) -> None:
        raise TemporaryError("still down")

    registry.add(spec("flaky", flaky))
    registry.add(spec("broken", broken))
    flaky_run, broken_run = await runtime.dispatcher.handle(make_alert(), "event-1")
    assert (flaky_run.status, flaky_run.attempts) == ("succeeded", 2)
    assert (broken_run.status, broken_run.attempts, broken_run.error) == ("failed", 3, "still down")


async def test_resolve_tombstones_the_episode_and_releases_leases(
    runtime: Runtime, registry: Registry
) -> None:
    async def pb(alert: Alert, ctx: Any) -> None:
        await ctx.flags.set("llm.mode", "cheap")
        await ctx.follow_up("10m", "pb")

    registry.add(spec("pb", pb))
    firing = make_alert()
    await runtime.dispatcher.handle(firing, "event-1")
    assert await runtime.flags.get("llm.mode") == "cheap"
    assert "fp1" in await runtime.firing.tracked()
    resolved = make_alert(status="resolved")
    (release,) = await runtime.dispatcher.handle(resolved, "event-2")
    assert release.playbook == RESOLVE_PLAYBOOK and release.status == "succeeded"
    assert [a.kind for a in release.actions] == ["flags.release_all"]
    assert await runtime.flags.get("llm.mode") is None
    assert await runtime.clients.commands.get(runtime.keys.resolved("fp1", firing.episode)) == "1"
    assert await runtime.clients.commands.zcard(runtime.keys.followups) == 0
    assert "fp1" not in await runtime.firing.tracked()
    # Late firing work of the resolved episode takes no lease.
    (late,) = await runtime.dispatcher.handle(firing, "event-3")
    assert [a.status for a in late.actions[:1]] == ["refused"]


async def test_named_runs_unknown_and_followups_after_resolve(runtime: Runtime, registry: Registry) -> None:
    async def pb(alert: Alert, ctx: Any) -> None: ...

    registry.add(spec("pb", pb, on="manual", match=""))
    (unknown,) = await runtime.dispatcher.handle(make_alert(), "e1", run="nope")
    assert (unknown.status, unknown.error) == ("failed", "unknown playbook 'nope'")
    (manual,) = await runtime.dispatcher.handle(
        make_alert(), "e2", run="pb", trigger=Trigger(source="manual")
    )
    assert manual.status == "succeeded" and manual.source == "manual"
    await runtime.dispatcher.handle(make_alert(status="resolved"), "e3")
    (followup,) = await runtime.dispatcher.handle(make_alert(), "e4", run="pb")
    assert followup.status == "skipped"
    assert followup.skipped_reason == "the alert resolved before the follow-up was due"


async def test_invalid_params_fail_the_run(runtime: Runtime, registry: Registry) -> None:
    from pydantic import BaseModel

    class Params(BaseModel):
        replicas: int

    async def pb(alert: Alert, ctx: Any) -> None: ...

    registry.add(spec("pb", pb, on="manual", match="", params=Params))
    trigger = Trigger(source="manual", params={"replicas": "many"})
    (execution,) = await runtime.dispatcher.handle(make_alert(), "e1", run="pb", trigger=trigger)
    assert execution.status == "failed" and (execution.error or "").startswith("invalid params")


async def test_plan_changes_nothing_and_reports_forgotten_awaits(
    runtime: Runtime, registry: Registry
) -> None:
    async def pb(alert: Alert, ctx: Any) -> None:
        await ctx.flags.set("llm.mode", "cheap")

    async def sloppy(alert: Alert, ctx: Any) -> None:
        ctx.flags.set("llm.mode", "cheap")  # never awaited

    registry.add(spec("pb", pb))
    registry.add(spec("sloppy", sloppy))
    good, bad = await runtime.dispatcher.plan(make_alert())
    assert good.would_run and [(a.kind, a.status) for a in good.actions] == [("flags.set", "dry_run")]
    assert not bad.would_run and "flags.set" in (bad.error or "")
    assert await runtime.flags.get("llm.mode") is None
    assert await runtime.executions.recent() == []


async def _noop() -> None:
    return None


def test_the_config_is_the_dispatch_part_of_the_settings() -> None:
    from app.engine.dispatch import DispatchConfig
    from app.settings import Settings

    settings = Settings(dry_run=True, playbook_timeout=7, max_attempts=5, default_flag_ttl=120)  # type: ignore[arg-type]
    config = DispatchConfig.from_settings(settings)
    assert (config.dry_run, config.playbook_timeout, config.max_attempts, config.default_flag_ttl) == (
        True,
        7,
        5,
        120,
    )
    assert (config.retry_base_delay, config.retry_max_delay) == (
        settings.retry_base_delay,
        settings.retry_max_delay,
    )
