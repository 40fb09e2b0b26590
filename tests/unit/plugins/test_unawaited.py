"""Actions called but never awaited are found, by reading the source and at simulation."""

from __future__ import annotations

from typing import Any

from app.plugins.unawaited import AwaitTracker, unawaited_calls


async def sloppy(alert: Any, ctx: Any) -> None:
    ctx.flags.set("a.flag", "on")
    await ctx.flags.set("b.flag", "on")
    ctx.follow_up("10m", "page")


async def careful(alert: Any, ctx: Any) -> None:
    await ctx.flags.set("a.flag", "on")
    print("not an action")


def sync_playbook(alert: Any, ctx: Any) -> None:
    ctx.flags.set("a.flag", "on")  # a sync playbook's proxy waits for it


def test_bare_action_calls_are_reported_with_their_line() -> None:
    found = unawaited_calls(sloppy)
    assert len(found) == 2
    assert found[0].endswith(": ctx.flags.set() is not awaited") and "test_unawaited.py:" in found[0]
    assert found[1].endswith(": ctx.follow_up() is not awaited")
    assert unawaited_calls(careful) == []
    assert unawaited_calls(sync_playbook) == []


class _Ctx:
    playbook = "pb"

    async def act(self, kind: str) -> str:
        return kind


async def test_the_tracker_reports_coroutines_never_started() -> None:
    tracker = AwaitTracker()
    ctx = tracker.wrap(_Ctx())
    assert ctx.playbook == "pb"  # plain attributes pass through
    assert await ctx.act("done") == "done"
    forgotten = ctx.act("forgotten")
    assert forgotten is not None
    (report,) = tracker.never_awaited()
    assert report.startswith("ctx.act() was never awaited (") and "test_unawaited.py:" in report
