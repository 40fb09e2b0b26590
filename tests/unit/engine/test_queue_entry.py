"""The queue protocol, against the machine's Redis: every way into the work-queue streams (intake,
manual triggers, follow-ups, approval gates, hand-back, dead-lettering, and the reconciler's
resolve, re-adopt, relapse and re-apply scripts) writes an entry `queue_entry.decode` reads back
whole, and entries in the field names of earlier versions decode the same."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import msgspec
import redis.asyncio as aioredis

from app.actions.flags import FlagStore
from app.engine import queue_entry
from app.engine.approvals import ApprovalStore
from app.engine.firing import RECONCILED, RECONCILED_TOMBSTONE, FiringAlerts
from app.engine.followups import FollowUps
from app.engine.lanes import HIGH, NORMAL
from app.engine.queue import AlertQueue, seen_mark
from app.engine.queue_entry import Entry
from app.engine.triggers import Trigger
from app.keys import GROUP, Keys
from app.models import Alert
from app.web import operations


def firing(fingerprint: str = "fp1") -> Alert:
    return Alert(
        status="firing",
        labels={"alertname": "X"},
        starts_at="2026-11-26T10:00:00Z",
        fingerprint=fingerprint,
    )


def json(alert: Alert) -> str:
    return msgspec.json.encode(alert).decode()


async def entries(aredis: aioredis.Redis, stream: str) -> list[Entry]:
    return [queue_entry.decode(eid, fields) for eid, fields in await aredis.xrange(stream)]


def parts(aredis: aioredis.Redis, ns: str) -> tuple[AlertQueue, FiringAlerts, Keys]:
    keys = Keys(ns)
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=60)
    queue = AlertQueue(aredis, keys, max_len=1000, dedup_ttl_s=3600)
    return queue, FiringAlerts(aredis, keys, flags, dedup_ttl_s=3600), keys


def test_entries_are_written_in_the_short_names_and_the_long_names_decode_the_same() -> None:
    """The short names are what every released version reads (a rolling upgrade); the long
    names, which a later version may write, are read already."""
    fields = queue_entry.encode("ev", '{"status":"firing"}', "00-ab", run="pb", trigger='{"source":"manual"}')
    assert fields == {
        "k": "ev",
        "a": '{"status":"firing"}',
        "tp": "00-ab",
        "run": "pb",
        "meta": '{"source":"manual"}',
    }
    long = {
        "key": "ev",
        "alert": '{"status":"firing"}',
        "traceparent": "00-ab",
        "run": "pb",
        "trigger": '{"source":"manual"}',
    }
    assert queue_entry.decode("1-0", long) == queue_entry.decode("1-0", fields)
    assert queue_entry.normalized(long) == fields
    # A notification's entry names no playbook and no trigger.
    assert queue_entry.encode("ev", "{}") == {"k": "ev", "a": "{}", "tp": ""}
    entry = queue_entry.decode("1-0", fields, 3, HIGH)
    assert (entry.deliveries, entry.lane, entry.fields) == (3, HIGH, fields)


async def test_intake_writes_decodable_entries(aredis: aioredis.Redis, ns: str) -> None:
    queue, _, keys = parts(aredis, ns)
    alert = firing()
    assert await queue.enqueue(
        [
            ("ev-n", json(alert), "00-tp", seen_mark("firing", "fp1"), NORMAL),
            ("ev-h", json(alert), "", seen_mark("firing", "fp1"), HIGH),
        ]
    ) == (2, 0)
    (normal,) = await entries(aredis, keys.lane(NORMAL))
    (high,) = await entries(aredis, keys.lane(HIGH))
    assert (normal.key, normal.alert, normal.traceparent, normal.run, normal.meta) == (
        "ev-n",
        json(alert),
        "00-tp",
        "",
        "",
    )
    assert (high.key, high.alert, high.traceparent) == ("ev-h", json(alert), "")
    # And what the workers read is the same entry.
    await queue.ensure_group()
    (read,) = await queue.read("c1", 1, 10)
    assert (read.key, read.alert, read.lane) == ("ev-h", json(alert), HIGH)


async def test_a_manual_trigger_writes_a_decodable_entry(aredis: aioredis.Redis, ns: str) -> None:
    queue, _, keys = parts(aredis, ns)
    runtime: Any = SimpleNamespace(
        registry=SimpleNamespace(get=lambda name: SimpleNamespace(params=None)), queue=queue
    )
    request = operations.TriggerRequest(labels={"alertname": "Manual"}, reason="drill")
    await operations.trigger(runtime, "pb", request, "alice")
    (entry,) = await entries(aredis, keys.lane(HIGH))
    assert entry.key.startswith("manual:") and entry.run == "pb"
    assert msgspec.json.decode(entry.alert, type=Alert).name == "Manual"
    trigger = Trigger.from_meta(entry.meta)
    assert (trigger.source, trigger.actor, trigger.reason) == ("manual", "alice", "drill")


async def test_a_due_follow_up_becomes_a_decodable_entry(aredis: aioredis.Redis, ns: str) -> None:
    keys = Keys(ns)
    followups = FollowUps(aredis, keys)
    alert = firing()
    await followups.schedule("s1", "escalate", alert, -1)  # due a second ago
    assert await followups.release_due() == 1
    (entry,) = await entries(aredis, keys.lane(HIGH))
    assert (entry.key, entry.run, entry.traceparent, entry.meta) == ("followup:s1", "escalate", "", "")
    assert msgspec.json.decode(entry.alert, type=Alert) == alert
    # The script cleaned up after itself.
    assert not await aredis.exists(keys.followup("s1"), keys.followups_of("fp1"))


async def test_an_approval_decision_requeues_a_decodable_entry(aredis: aioredis.Redis, ns: str) -> None:
    keys = Keys(ns)
    approvals = ApprovalStore(aredis, keys, timeout_s=60)
    meta = Trigger(source="manual", actor="bob").to_meta()
    parked = queue_entry.encode("ev", json(firing()), run="pb", trigger=meta)
    for execution, fields in (
        ("ex-" + "a" * 20, parked),
        # Parked by a later version that writes the long field names.
        (
            "ex-" + "b" * 20,
            {"key": "ev", "alert": json(firing()), "traceparent": "", "run": "pb", "trigger": meta},
        ),
    ):
        await approvals.request(
            execution_id=execution, playbook="pb", index=0, description="d", alertname="X", fields=fields
        )
        assert await approvals.decide(execution, "approve", "alice") is not None
    first, second = await entries(aredis, keys.lane(HIGH))
    assert first.fields == second.fields
    assert (first.key, first.run, first.meta) == ("ev", "pb", meta)
    # Both were queued in the names this version writes.
    assert all(set(f) == set(parked) for _, f in await aredis.xrange(keys.lane(HIGH)))


async def test_hand_back_and_dead_letter_keep_the_entry(aredis: aioredis.Redis, ns: str) -> None:
    queue, _, keys = parts(aredis, ns)
    await queue.ensure_group()
    meta = Trigger(source="followup").to_meta()
    await queue.push(queue_entry.encode("ev", json(firing()), "00-tp", run="pb", trigger=meta), lane=NORMAL)
    (entry,) = await queue.read("c1", 1, 10)
    await queue.hand_back(entry)
    (again,) = await queue.read("c1", 1, 10)
    assert again.fields == entry.fields and again.id != entry.id
    assert (await aredis.xpending(keys.lane(NORMAL), GROUP))["pending"] == 1  # the first was acked
    await queue.dead_letter(again, "failed", playbook="pb")
    ((dead_id, fields),) = await aredis.xrange(keys.dead)
    dead = queue_entry.decode(dead_id, fields)
    assert (dead.key, dead.alert, dead.traceparent, dead.run, dead.meta) == (
        "ev",
        json(firing()),
        "00-tp",
        "pb",
        meta,
    )
    assert (fields["id"], fields["lane"], fields["reason"], fields["playbook"]) == (
        again.id,
        NORMAL,
        "failed",
        "pb",
    )


async def test_the_reconcilers_scripts_write_decodable_entries(aredis: aioredis.Redis, ns: str) -> None:
    _, firing_alerts, keys = parts(aredis, ns)
    alert = firing()
    # Resolve: a resolved notification of the alert.
    assert await firing_alerts.track(alert)
    assert await firing_alerts.resolve(alert)
    (resolved,) = await entries(aredis, keys.lane(NORMAL))
    assert resolved.key.startswith("reconciled:") and resolved.run == ""
    assert msgspec.json.decode(resolved.alert, type=Alert).status == "resolved"
    assert Trigger.from_meta(resolved.meta).reason == RECONCILED
    # Re-adopt: the episode the reconciler resolved fires again.
    await aredis.set(keys.resolved(alert.fingerprint, alert.episode), RECONCILED_TOMBSTONE)
    assert await firing_alerts.readopt(alert)
    # Relapse: its leases lapsed while it fires.
    assert await firing_alerts.relapse(alert)
    _, readopted, relapsed = await entries(aredis, keys.lane(NORMAL))
    assert (
        readopted.key.startswith("readopt:fp1:") and msgspec.json.decode(readopted.alert, type=Alert) == alert
    )
    assert relapsed.key.startswith("relapse:fp1:") and Trigger.from_meta(relapsed.meta).state_only
    assert await aredis.get(keys.relapse(alert.fingerprint, alert.episode)) == relapsed.key
    # Re-apply: everything and a named follow-up refused while paused.
    await firing_alerts.defer(alert)
    await firing_alerts.defer(alert, playbook="escalate")
    assert await firing_alerts.reapply("fp1") == 2
    full, followup = await entries(aredis, keys.lane(HIGH))
    assert (full.run, followup.run) == ("", "escalate")
    assert followup.key == full.key + ":escalate" and full.key.startswith("reapply:fp1:")
    assert (
        msgspec.json.decode(full.alert, type=Alert)
        == alert
        == msgspec.json.decode(followup.alert, type=Alert)
    )
    assert Trigger.from_meta(followup.meta).source == "followup"
    # Every entry any of them wrote uses the current field names only.
    for stream in (keys.lane(NORMAL), keys.lane(HIGH)):
        for _, fields in await aredis.xrange(stream):
            assert set(fields) <= set(queue_entry.SCRIPT_FIELDS)
