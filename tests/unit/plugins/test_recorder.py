"""The action recorder: replay, dry-run, kill switch, refusals and failures are all recorded."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import GuardrailRefused
from app.models import ActionRecord
from app.plugins.recorder import Recorder


def counter() -> tuple[list[int], Any]:
    calls: list[int] = []

    async def act(key: str) -> str:
        calls.append(1)
        return "done"

    return calls, act


async def test_performs_and_persists_successful_actions() -> None:
    persisted: list[ActionRecord] = []

    async def persist(record: ActionRecord) -> None:
        persisted.append(record)

    calls, act = counter()
    recorder = Recorder(dry_run=False, paused=False, completed={}, persist=persist)
    record = await recorder.run("test.effect", "t", {"a": 1}, act)
    assert (record.status, record.result, record.index) == ("ok", "done", 0)
    assert calls == [1]
    assert persisted == [record]


async def test_completed_index_is_replayed_not_repeated() -> None:
    calls, act = counter()
    done = ActionRecord(index=0, kind="test.effect", target="t", result="earlier")
    recorder = Recorder(dry_run=False, paused=False, completed={0: done}, persist=None)
    assert await recorder.run("test.effect", "t", {}, act) is done
    assert (await recorder.run("test.effect", "u", {}, act)).status == "ok"
    assert calls == [1]
    recorder.restart()  # a retry in the same process replays both
    await recorder.run("test.effect", "t", {}, act)
    await recorder.run("test.effect", "u", {}, act)
    assert calls == [1]


async def test_dry_run_and_pause_do_not_act() -> None:
    calls, act = counter()
    dry = await Recorder(dry_run=True, paused=False, completed={}, persist=None).run("k", "t", {}, act)
    paused = await Recorder(dry_run=False, paused=True, completed={}, persist=None).run("k", "t", {}, act)
    assert (dry.status, paused.status, paused.reason) == ("dry_run", "refused", "autonomic.paused is set")
    assert calls == []


async def test_unavailable_adapter_is_recorded_as_dry_run_with_reason() -> None:
    recorder = Recorder(dry_run=False, paused=False, completed={}, persist=None)
    record = await recorder.run("slack.post", "#x", {}, None, unavailable="Slack is not configured")
    assert (record.status, record.reason) == ("dry_run", "Slack is not configured")


async def test_refusal_and_failure_are_recorded() -> None:
    async def refuse(key: str) -> None:
        raise GuardrailRefused("outside the namespace allowlist")

    async def explode(key: str) -> None:
        raise ValueError("bad")

    recorder = Recorder(dry_run=False, paused=False, completed={}, persist=None)
    refused = await recorder.run("kube.restart", "ns/x", {}, refuse)
    assert (refused.status, refused.reason) == ("refused", "outside the namespace allowlist")
    with pytest.raises(ValueError, match="bad"):
        await recorder.run("kube.restart", "ns/y", {}, explode)
    assert [(r.status, r.error) for r in recorder.records] == [
        ("refused", None),
        ("failed", "ValueError: bad"),
    ]
