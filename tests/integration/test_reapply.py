"""Re-applies through the running service, against the machine's Redis: a state-only re-apply
(leases lapsed while the alert still fires) sets the flags again and skips every event, even for
a playbook without a cooldown; a refused state-only run stays state-only when resumed; and
concurrent re-applies of one alert queue it once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import msgspec
import redis
import redis.asyncio as aioredis

from app.actions.flags import FlagStore
from app.engine import queue_entry
from app.engine.firing import LAPSED, REAPPLIED, FiringAlerts
from app.engine.triggers import Trigger
from app.keys import Keys
from app.models import Alert
from tests.conftest import NAMED_OPERATOR_TOKENS, NAMED_OPERATORS, TEST_PLAYBOOKS
from tests.integration.helpers import alert, executions, payload, post
from tests.support.procs import Service, wait_for

EACH = {"AUTONOMIC_PLAYBOOK_DIRS": str(TEST_PLAYBOOKS), "AUTONOMIC_OPERATOR_TOKENS": NAMED_OPERATOR_TOKENS}
ALICE = {"Authorization": f"Bearer {NAMED_OPERATORS['alice']}"}


def firing_alerts(aredis: aioredis.Redis, ns: str) -> FiringAlerts:
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=60)
    return FiringAlerts(aredis, Keys(ns), flags, dedup_ttl_s=3600)


async def test_a_state_only_re_apply_pages_no_second_time_without_a_cooldown(
    start_service: Callable[..., Service], sync_redis: redis.Redis, aredis: aioredis.Redis, ns: str
) -> None:
    svc = start_service(**EACH)
    post(svc.url, payload(alert("LevelEachTime", ttl="1h")))
    wait_for(lambda: sync_redis.hlen(f"{ns}tracked") == 1, what="alert tracked")
    assert sync_redis.get(f"{ns}pages:level_each_time") == "1"
    alerts = firing_alerts(aredis, ns)
    (tracked,) = (await alerts.tracked()).values()
    assert await alerts.relapse(tracked.a)
    runs = wait_for(
        lambda: (r := executions(svc.url, playbook="level_each_time")) and len(r) == 2 and r,
        what="re-applied run",
    )
    again = runs[0]
    assert again["reason"] == LAPSED
    assert again["skipped_reason"] == "re-applied state only: events skipped, flag leases applied"
    assert [(a["kind"], a["status"]) for a in again["actions"]] == [
        ("flags.set", "ok"),
        ("test.page", "skipped"),
    ]
    assert sync_redis.get(f"{ns}pages:level_each_time") == "1"


def firing(fingerprint: str = "fp1", starts_at: str = "2026-11-26T10:00:00Z") -> Alert:
    return Alert(status="firing", labels={"alertname": "X"}, starts_at=starts_at, fingerprint=fingerprint)


async def test_a_state_only_re_apply_refused_while_paused_is_not_widened_on_resume(
    start_service: Callable[..., Service], sync_redis: redis.Redis, aredis: aioredis.Redis, ns: str
) -> None:
    svc = start_service(**EACH)
    post(svc.url, payload(alert("LevelEachTime", ttl="1h")))
    wait_for(lambda: sync_redis.hlen(f"{ns}tracked") == 1, what="alert tracked")
    paused = httpx.post(f"{svc.url}/api/pause", json={"reason": "freeze"}, headers=ALICE, timeout=10)
    assert paused.status_code == 200, paused.text
    alerts = firing_alerts(aredis, ns)
    (tracked,) = (await alerts.tracked()).values()
    assert await alerts.relapse(tracked.a)
    runs = wait_for(
        lambda: (r := executions(svc.url, playbook="level_each_time")) and len(r) == 2 and r,
        what="refused re-apply",
    )
    assert (runs[0]["status"], runs[0]["reason"]) == ("refused", LAPSED)
    assert sync_redis.hlen(f"{ns}reapply") == 0  # nothing to widen into a full re-apply
    # Refused, it did not run: its marker stays, so passes while paused queue no more of it.
    assert await alerts.relapse(tracked.a) is False
    resumed = httpx.delete(f"{svc.url}/api/pause", headers=ALICE, timeout=10)
    assert resumed.status_code == 200, resumed.text
    assert len(executions(svc.url, playbook="level_each_time")) == 2
    assert sync_redis.get(f"{ns}pages:level_each_time") == "1"


async def test_a_refused_follow_up_is_re_applied_as_itself_only(aredis: aioredis.Redis, ns: str) -> None:
    alerts, keys = firing_alerts(aredis, ns), Keys(ns)
    alert_ = firing()
    await alerts.defer(alert_, playbook="escalate")
    await alerts.defer(alert_, playbook="escalate")  # its redelivery: still one
    assert await alerts.deferred() == ["fp1"]
    assert await alerts.reapply("fp1") == 1
    # Re-applies take the high lane.
    (entry,) = [queue_entry.decode(*item) for item in await aredis.xrange(keys.lane("high"))]
    assert entry.run == "escalate"
    trigger = Trigger.from_meta(entry.meta)
    assert (trigger.source, trigger.reason, trigger.state_only) == ("followup", REAPPLIED, False)
    assert msgspec.json.decode(entry.alert, type=Alert) == alert_
    # A refused notification as well: every playbook, and the follow-up, each once.
    await alerts.defer(alert_, playbook="escalate")
    await alerts.defer(alert_)
    assert await alerts.reapply("fp1") == 2
    entries = [queue_entry.decode(*item) for item in await aredis.xrange(keys.lane("high"))]
    assert [e.run for e in entries[1:]] == ["", "escalate"]
    assert Trigger.from_meta(entries[1].meta).source == "system"


async def test_concurrent_re_applies_of_one_alert_queue_it_once(aredis: aioredis.Redis, ns: str) -> None:
    alerts, keys = firing_alerts(aredis, ns), Keys(ns)
    await alerts.defer(firing())
    # A resume on one replica racing the leader's pass.
    assert sorted(await asyncio.gather(*(alerts.reapply("fp1") for _ in range(5)))) == [0, 0, 0, 0, 1]
    assert await aredis.xlen(keys.lane("high")) == 1
    assert await alerts.deferred() == []
    # A lapse is queued once per episode until that entry ran, however many passes see it.
    lapsed = firing("fp2")
    assert sorted(await asyncio.gather(*(alerts.relapse(lapsed) for _ in range(5)))) == [False] * 4 + [True]
    assert await alerts.relapse(lapsed) is False
    assert await aredis.xlen(keys.alerts) == 1  # a lapse takes the alert's own (normal) lane
    await alerts.relapsed(lapsed)  # dispatch ran it: a later lapse comes back
    assert await alerts.relapse(lapsed) is True
    # Another episode's lapse is its own.
    assert await alerts.relapse(firing("fp2", starts_at="2026-11-26T12:00:00Z")) is True


async def test_a_record_of_the_previous_format_is_re_applied_in_full(aredis: aioredis.Redis, ns: str) -> None:
    alerts, keys = firing_alerts(aredis, ns), Keys(ns)
    alert_ = firing()
    old = msgspec.json.encode({"e": alert_.episode, "a": alert_})  # before follow-ups were kept apart
    await aredis.hset(keys.reapply, "fp1", old)
    assert await alerts.reapply("fp1") == 1
    (entry,) = [queue_entry.decode(*item) for item in await aredis.xrange(keys.lane("high"))]
    assert entry.run == "" and Trigger.from_meta(entry.meta).reason == REAPPLIED
    assert msgspec.json.decode(entry.alert, type=Alert) == alert_
