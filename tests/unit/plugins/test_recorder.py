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
    # Write-ahead: the intent (with its key) before the call, the result after it.
    assert [(r.status, r.params) for r in persisted] == [("pending", {"a": 1, "key": ":0"}), ("ok", {"a": 1})]
    assert persisted[-1] is record


async def test_interrupted_call_is_resolved_before_it_is_repeated() -> None:
    calls, act = counter()
    intent = ActionRecord(index=0, kind="slack.post", target="#c", status="pending", started_at=5.0)
    seen: list[tuple[str, float]] = []

    async def found(key: str, pending: ActionRecord) -> Any:
        seen.append((key, pending.started_at))
        return {"ts": "1.0"}

    recorder = Recorder(dry_run=False, paused=False, completed={0: intent}, persist=None, execution_id="ex")
    record = await recorder.run("slack.post", "#c", {}, act, resolve=found)
    assert (record.status, record.result, calls, seen) == ("ok", {"ts": "1.0"}, [], [("ex:0", 5.0)])

    async def missing(key: str, pending: ActionRecord) -> Any:
        return None

    persisted: list[ActionRecord] = []

    async def persist(record: ActionRecord) -> None:
        persisted.append(record)

    recorder = Recorder(
        dry_run=False, paused=False, completed={0: intent}, persist=persist, execution_id="ex"
    )
    record = await recorder.run("slack.post", "#c", {}, act, resolve=missing)
    assert (record.status, calls) == ("ok", [1])  # not found: called again under the same key
    assert [r.status for r in persisted] == ["ok"]  # the intent was already there


async def test_best_effort_failure_is_recorded_and_the_playbook_goes_on() -> None:
    async def unreachable(key: str) -> None:
        raise ConnectionError("slack unreachable")

    persisted: list[ActionRecord] = []

    async def persist(record: ActionRecord) -> None:
        persisted.append(record)

    recorder = Recorder(dry_run=False, paused=False, completed={}, persist=persist)
    record = await recorder.run("slack.post", "#c", {}, unreachable, best_effort=True)
    assert (record.status, record.best_effort, record.error) == (
        "failed",
        True,
        "ConnectionError: slack unreachable",
    )
    assert recorder.failures == [record]
    assert persisted[-1] is record  # a reclaimed execution does not try it again


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


async def test_releases_run_while_paused_other_actions_are_refused() -> None:
    calls, act = counter()
    recorder = Recorder(dry_run=False, paused=True, completed={}, persist=None)
    release = await recorder.run("flags.release_all", "alert:x", {}, act)
    lease = await recorder.run("flags.set", "llm.model_tier", {}, act)
    assert (release.status, lease.status) == ("ok", "refused")
    assert calls == [1]


async def test_inside_a_cooldown_flag_leases_are_taken_and_events_skipped() -> None:
    calls, act = counter()
    recorder = Recorder(
        dry_run=False, paused=False, completed={}, persist=None, events_blocked="cooldown 60s"
    )
    kinds = ["flags.set", "pagerduty.trigger", "kube.restart", "slack.post", "notify.post", "test.page"]
    records = [await recorder.run(kind, "t", {}, act) for kind in kinds]
    assert [(r.kind, r.status) for r in records] == [
        ("flags.set", "ok"),
        *((kind, "skipped") for kind in kinds[1:]),
    ]
    assert {r.reason for r in records[1:]} == {"cooldown 60s"}
    assert calls == [1]
    gated = await recorder.run("pagerduty.trigger", "t", {}, act, approval="page")
    assert gated.status == "skipped"  # a skipped event asks nobody for approval


async def test_a_secret_in_a_target_is_redacted_in_the_record_and_its_replay() -> None:
    from app.actions.redaction import Redactor

    persisted: list[ActionRecord] = []

    async def persist(record: ActionRecord) -> None:
        persisted.append(record)

    async def boom(key: str) -> Any:
        raise RuntimeError("unreachable")

    secret = "s3cr3t-notify-token-0123456789"
    url = f"https://hooks.example/notify?token={secret}"
    recorder = Recorder(dry_run=False, paused=False, completed={}, persist=persist, redact=Redactor([secret]))
    record = await recorder.run("notify.post", url, {}, boom, best_effort=True)
    assert record.status == "failed"
    assert all(secret not in r.target for r in persisted) and secret not in record.target
    # A retry of the same execution recognises the redacted record as the same action.
    again = Recorder(
        dry_run=False, paused=False, completed={0: record}, persist=None, redact=Redactor([secret])
    )
    calls, act = counter()
    assert (await again.run("notify.post", url, {}, act)) is record
    assert calls == []
