"""The seen / tracked / re-apply records against the machine's Redis: the intake marks every
firing notification seen (duplicates too) in its one script call, the renewal extends the
leases of seen alerts, and the reconciler's resolve is deduplicated like a webhook's."""

from __future__ import annotations

import msgspec
import pytest
import redis.asyncio as aioredis

from app.actions.flags import FlagStore, alert_holder
from app.engine import queue_entry
from app.engine.firing import RECONCILED, FiringAlerts
from app.engine.lanes import NORMAL
from app.engine.queue import AlertQueue, seen_mark
from app.keys import Keys
from app.models import Alert


@pytest.fixture
def parts(aredis: aioredis.Redis, ns: str) -> tuple[AlertQueue, FiringAlerts, FlagStore, Keys]:
    keys = Keys(ns)
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=60)
    queue = AlertQueue(aredis, keys, max_len=1000, dedup_ttl_s=3600)
    return queue, FiringAlerts(aredis, keys, flags, dedup_ttl_s=3600), flags, keys


def firing(fingerprint: str = "fp1", starts_at: str = "2026-11-26T10:00:00Z") -> Alert:
    return Alert(status="firing", labels={"alertname": "X"}, starts_at=starts_at, fingerprint=fingerprint)


def item(alert: Alert) -> tuple[str, str, str, str, str]:
    mark = seen_mark(alert.status, alert.fingerprint)
    return alert.event_key, msgspec.json.encode(alert).decode(), "", mark, NORMAL


async def test_duplicates_are_seen_and_renew_the_leases(
    parts: tuple[AlertQueue, FiringAlerts, FlagStore, Keys], aredis: aioredis.Redis
) -> None:
    queue, alerts, flags, keys = parts
    alert = firing()
    await flags.set("llm.model_tier", "economy", ttl_s=30, holder=alert_holder("fp1"))
    (first,) = await flags.active()
    # A sighting in the lease's own millisecond would not extend it: let Redis's clock move on.
    while True:
        secs, micros = await aredis.time()
        if secs * 1000 + micros // 1000 > first.leases[0].expires_at_ms - 30_000:
            break
    assert await queue.enqueue([item(alert)]) == (1, 0)
    assert await alerts.renew() == 1  # seen just now: the lease lasts 30s past that
    assert await queue.enqueue([item(alert)]) == (0, 1)  # a repeat: a duplicate, but seen
    seen_at = await aredis.zscore(keys.seen, "fp1")
    assert seen_at is not None
    await alerts.renew()
    (renewed,) = await flags.active()
    assert renewed.leases[0].expires_at_ms == int(seen_at) + 30_000 >= first.leases[0].expires_at_ms
    resolved = msgspec.structs.replace(alert, status="resolved")
    await queue.enqueue([item(resolved)])
    assert await aredis.zscore(keys.seen, "fp1") is None  # a resolved alert is not renewed


async def test_reconciled_resolve_is_queued_once_and_stops_tracking(
    parts: tuple[AlertQueue, FiringAlerts, FlagStore, Keys], aredis: aioredis.Redis
) -> None:
    queue, alerts, _, keys = parts
    alert = firing()
    assert await alerts.track(alert)
    ((passes, missing_s),) = (await alerts.count_absent(["fp1"])).values()
    assert passes == 1 and missing_s == 0
    assert await alerts.resolve(alert) is True
    assert await alerts.tracked() == {}
    (entry,) = [queue_entry.decode(*item) for item in await aredis.xrange(keys.alerts)]
    queued = msgspec.json.decode(entry.alert, type=Alert)
    assert queued.status == "resolved" and queued.fingerprint == "fp1"
    assert RECONCILED in entry.meta
    # Alertmanager's own resolved notification arriving later is a duplicate of it.
    assert await queue.enqueue([item(msgspec.structs.replace(alert, status="resolved"))]) == (0, 1)
    assert await alerts.resolve(alert) is False


async def test_a_late_resolve_of_an_old_episode_keeps_the_new_one_tracked(
    parts: tuple[AlertQueue, FiringAlerts, FlagStore, Keys], aredis: aioredis.Redis
) -> None:
    _, alerts, _, keys = parts
    old, new = firing(starts_at="2026-11-26T10:00:00Z"), firing(starts_at="2026-11-26T11:00:00Z")
    await alerts.track(new)
    await alerts.forget(old)
    assert list(await alerts.tracked()) == ["fp1"]
    await aredis.set(keys.resolved("fp1", new.episode), "1")
    await alerts.forget(new)
    assert await alerts.tracked() == {}
    assert await alerts.track(new) is False  # a late firing notification of a resolved episode


async def test_without_alertmanager_an_alert_unseen_for_a_day_is_forgotten(
    parts: tuple[AlertQueue, FiringAlerts, FlagStore, Keys], aredis: aioredis.Redis
) -> None:
    queue, alerts, _, keys = parts
    fresh, stale = firing("fresh"), firing("stale")
    await queue.enqueue([item(fresh), item(stale)])
    await alerts.track(fresh)
    await alerts.track(stale)
    await aredis.zadd(keys.seen, {"stale": 1})  # last seen long ago
    await alerts.renew()  # prunes sightings older than the retention
    assert await alerts.drop_unseen(["fresh", "stale"]) == ["stale"]
    assert list(await alerts.tracked()) == ["fresh"]
