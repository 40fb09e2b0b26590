"""Re-applies through the running service, against the machine's Redis: a state-only re-apply
(leases lapsed while the alert still fires) sets the flags again and skips every event, even for
a playbook without a cooldown; a refused state-only run stays state-only when resumed; and
concurrent re-applies of one alert queue it once."""

from __future__ import annotations

from collections.abc import Callable

import redis
import redis.asyncio as aioredis

from app.actions.flags import FlagStore
from app.engine.firing import LAPSED, FiringAlerts
from app.keys import Keys
from tests.conftest import TEST_PLAYBOOKS
from tests.integration.helpers import alert, executions, payload, post
from tests.support.procs import Service, wait_for

EACH = {"AUTONOMIC_PLAYBOOK_DIRS": str(TEST_PLAYBOOKS)}


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
    await alerts.reapply(tracked.a, reason=LAPSED, state_only=True)
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
