"""The built-in resolve: releases what the alert holds, resolves its page, replies in its thread,
and does nothing for an alert that held nothing."""

from __future__ import annotations

from typing import Any

from app.engine.resolve import RESOLVE, RESOLVE_PLAYBOOK
from tests.unit.conftest import make_alert


class _Flags:
    def __init__(self, held: list[str]) -> None:
        self._held = held
        self.released: list[list[str]] = []

    async def held(self) -> list[str]:
        return self._held

    async def release_all(self, held: list[str]) -> None:
        self.released.append(held)


class _System:
    def __init__(self, present: bool) -> None:
        self.present = present
        self.calls: list[str] = []

    async def paged(self) -> bool:
        return self.present

    async def resolve(self) -> None:
        self.calls.append("resolve")

    async def close_thread(self, text: str) -> None:
        if self.present:
            self.calls.append(text)


class _Ctx:
    def __init__(self, held: list[str], present: bool) -> None:
        self.flags = _Flags(held)
        self.pagerduty = _System(present)
        self.slack = _System(present)


def test_the_resolve_spec_runs_for_every_resolved_alert() -> None:
    assert RESOLVE.name == RESOLVE_PLAYBOOK
    assert RESOLVE.applies(make_alert("Anything", "resolved"))
    assert not RESOLVE.applies(make_alert("Anything", "firing"))


async def test_resolve_undoes_what_the_alert_did() -> None:
    ctx: Any = _Ctx(["a.flag"], present=True)
    await RESOLVE.fn(make_alert(status="resolved"), ctx)
    assert ctx.flags.released == [["a.flag"]]
    assert ctx.pagerduty.calls == ["resolve"]
    assert ctx.slack.calls == ["Resolved: mitigations released."]


async def test_resolve_of_an_alert_that_did_nothing_does_nothing() -> None:
    ctx: Any = _Ctx([], present=False)
    await RESOLVE.fn(make_alert(status="resolved"), ctx)
    assert ctx.flags.released == [] and ctx.pagerduty.calls == [] and ctx.slack.calls == []
