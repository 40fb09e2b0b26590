"""The firing-alert records: tracking refused after a resolve, absence counts, re-applies
queued once, reconciled resolves deduplicated, relapses marked."""

from __future__ import annotations

import msgspec
import pytest
from redis.asyncio import Redis

from app.actions.flags import FlagStore
from app.engine.firing import LAPSED, RECONCILED, FiringAlerts
from app.engine.lanes import HIGH, NORMAL
from app.engine.triggers import Trigger
from app.keys import Keys
from tests.unit.conftest import make_alert


@pytest.fixture
def firing(aredis: Redis, ns: str) -> FiringAlerts:
    flags = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    return FiringAlerts(aredis, Keys(ns), flags, dedup_ttl_s=60)


async def test_track_is_refused_once_the_episode_resolved(
    firing: FiringAlerts, aredis: Redis, ns: str
) -> None:
    alert = make_alert()
    assert await firing.track(alert, leased=True)
    tracked = (await firing.tracked())["fp1"]
    assert tracked.l and tracked.e == alert.episode
    await firing.forget(alert)
    assert await firing.tracked() == {}
    await aredis.set(Keys(ns).resolved("fp1", alert.episode), "1")
    assert not await firing.track(alert)
    assert await firing.tracked() == {}


async def test_absence_counts_until_seen_again(firing: FiringAlerts) -> None:
    assert await firing.count_absent([]) == {}
    (count, missing_s) = (await firing.count_absent(["fp1"]))["fp1"]
    assert (count, missing_s) == (1, 0)
    assert (await firing.count_absent(["fp1"]))["fp1"][0] == 2
    await firing.mark_seen(["fp1"])
    assert (await firing.count_absent(["fp1"]))["fp1"][0] == 1


async def test_unseen_tracked_alerts_are_dropped(firing: FiringAlerts) -> None:
    await firing.track(make_alert(fingerprint="old"))
    await firing.track(make_alert(fingerprint="new"))
    await firing.mark_seen(["new"])
    assert await firing.drop_unseen(["old", "new"]) == ["old"]
    assert set(await firing.tracked()) == {"new"}


async def test_a_deferred_alert_is_reapplied_once(firing: FiringAlerts, aredis: Redis, ns: str) -> None:
    alert = make_alert()
    await firing.defer(alert)
    assert await firing.deferred() == ["fp1"]
    assert await firing.reapply("fp1") == 1
    assert await firing.reapply("fp1") == 0
    ((_, fields),) = await aredis.xrange(Keys(ns).lane(HIGH))
    assert msgspec.json.decode(fields["a"])["fingerprint"] == "fp1"
    assert await firing.deferred() == []


async def test_a_reconciled_resolve_is_queued_once(firing: FiringAlerts, aredis: Redis, ns: str) -> None:
    alert = make_alert()
    await firing.track(alert)
    assert await firing.resolve(alert)
    assert not await firing.resolve(alert)
    ((_, fields),) = await aredis.xrange(Keys(ns).lane(NORMAL))
    assert msgspec.json.decode(fields["a"])["status"] == "resolved"
    assert Trigger.from_meta(fields["meta"]).reason == RECONCILED
    assert await aredis.zscore(Keys(ns).reconciled, "fp1") is not None


async def test_a_relapse_is_queued_until_it_ran(firing: FiringAlerts, aredis: Redis, ns: str) -> None:
    alert = make_alert(severity="critical")
    assert await firing.relapse(alert)
    assert not await firing.relapse(alert)  # still queued
    await firing.relapsed(alert)
    assert await firing.relapse(alert)
    entries = await aredis.xrange(Keys(ns).lane(HIGH))  # a critical alert's lane
    trigger = Trigger.from_meta(entries[0][1]["meta"])
    assert len(entries) == 2 and trigger.state_only and trigger.reason == LAPSED


async def test_lapsed_means_no_lease_and_no_revert(firing: FiringAlerts, aredis: Redis, ns: str) -> None:
    await firing.flags.set("a.flag", "on", ttl_s=60, holder="alert:held")
    await aredis.sadd(Keys(ns).reverted, "alert:reverted")
    assert await firing.lapsed(["held", "reverted", "lapsed"]) == ["lapsed"]
