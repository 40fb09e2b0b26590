"""`ctx.flags`, `ctx.kube` and `ctx.pagerduty`: each call becomes one recorded action on the
adapter (here: its local fake), a dry-run record when the system is not configured, and the
per-alert incident that the resolve needs is kept in Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from app.actions.flags import FlagStore
from app.actions.lease_origins import LeaseOrigin, LeaseOrigins
from app.actions.outside import Adapters
from app.errors import PermanentError, TemporaryError
from app.keys import Keys
from app.models import ActionRecord
from app.plugins.facades import FlagActions, KubeActions, PagerDutyActions
from app.plugins.recorder import Recorder
from tests.support.fakes import PagerDutyFake
from tests.support.kube import KubeEmulator, deployment
from tests.unit.conftest import make_alert


def _recorder() -> Recorder:
    return Recorder(dry_run=False, paused=False, completed={}, persist=None, execution_id="ex-t")


def _parts(adapters: Adapters, redis: Redis, ns: str, tombstone: str = "", **alert: Any) -> dict[str, Any]:
    return {
        "recorder": _recorder(),
        "alert": make_alert(**alert),
        "adapters": adapters,
        "redis": redis,
        "keys": Keys(ns),
        "tombstone": tombstone,
    }


async def test_flag_leases_are_held_by_the_alert_and_their_origin_kept(aredis: Redis, ns: str) -> None:
    store = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    origins = LeaseOrigins(aredis, Keys(ns), ttl_s=60)
    origin = LeaseOrigin(execution_id="ex-t", playbook="pb", source="alertmanager")
    flags = FlagActions(
        store, _recorder(), holder="alert:fp1", tombstone="", default_ttl=60, origins=origins, origin=origin
    )
    record = await flags.set("llm.mode", True)
    assert (record.kind, record.status, record.params["value"], record.params["ttl_s"]) == (
        "flags.set",
        "ok",
        "true",
        60,
    )
    assert await flags.get("llm.mode") == "true" and await flags.held() == ["llm.mode"]
    assert (await origins.many([("alert:fp1", "llm.mode")]))[("alert:fp1", "llm.mode")].playbook == "pb"
    released = await flags.release_all(["llm.mode"])
    assert released.result == {"released": {"llm.mode": None}} and await flags.held() == []
    with pytest.raises(PermanentError, match="TTL must be positive"):
        await flags.set("llm.mode", "x", ttl=0)


async def test_a_tombstoned_episode_gets_a_refusal(aredis: Redis, ns: str) -> None:
    await aredis.set(f"{ns}resolved:fp1:e", "1")
    store = FlagStore(aredis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    flags = FlagActions(
        store, _recorder(), holder="alert:fp1", tombstone=f"{ns}resolved:fp1:e", default_ttl=60
    )
    record = await flags.set("llm.mode", "cheap")
    assert record.status == "refused" and await flags.get("llm.mode") is None


async def test_an_unconfigured_system_is_recorded_as_dry_run(aredis: Redis, ns: str) -> None:
    adapters = Adapters(missing={"kube": "no credentials", "pagerduty": "no key"})
    kube = KubeActions(**_parts(adapters, aredis, ns))
    record = await kube.restart("deployment", "api", "llm")
    assert (record.status, record.reason) == ("dry_run", "kube not configured: no credentials")
    page = await PagerDutyActions(**_parts(adapters, aredis, ns)).trigger("down")
    assert page.status == "dry_run" and not await aredis.exists(Keys(ns).incident("fp1"))


async def test_paging_keeps_the_incident_until_resolved(
    adapters: Adapters, pagerduty: PagerDutyFake, aredis: Redis, ns: str
) -> None:
    pd = PagerDutyActions(**_parts(adapters, aredis, ns, severity="critical"))
    record = await pd.trigger("latency up")
    assert record.status == "ok" and await pd.paged()
    (event,) = pagerduty.actions("trigger")
    assert (
        event["payload"]["severity"] == "critical"
        and event["payload"]["summary"] == "[HighLatency] latency up"
    )
    assert event["dedup_key"] == record.target
    await pd.resolve()
    assert not await pd.paged() and [e["dedup_key"] for e in pagerduty.actions("resolve")] == [record.target]


async def test_a_resolve_while_the_page_is_in_flight_resolves_the_incident(
    adapters: Adapters, pagerduty: PagerDutyFake, aredis: Redis, ns: str
) -> None:
    # The resolve marks the tombstone and finds no incident yet: the page is still on its way.
    tombstone = Keys(ns).resolved("fp1", make_alert().episode)
    pd = PagerDutyActions(**_parts(adapters, aredis, ns, tombstone=tombstone, severity="critical"))
    pagerduty.hold.clear()
    paging = asyncio.create_task(pd.trigger("latency up"))
    assert await asyncio.to_thread(pagerduty.held.wait, 10)
    await aredis.set(tombstone, "1")
    assert not await pd.paged()  # what the resolve sees
    pagerduty.hold.set()
    record = await paging
    assert record.status == "ok" and record.result["resolved"] == "the alert resolved while it was paged"
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]
    assert pagerduty.actions("resolve")[0]["dedup_key"] == record.target and not await pd.paged()


async def test_a_first_try_at_paging_a_resolved_episode_is_refused(
    adapters: Adapters, pagerduty: PagerDutyFake, aredis: Redis, ns: str
) -> None:
    tombstone = Keys(ns).resolved("fp1", make_alert().episode)
    await aredis.set(tombstone, "1")
    late = await PagerDutyActions(**_parts(adapters, aredis, ns, tombstone=tombstone)).trigger("up")
    assert (late.status, late.reason) == ("refused", "the alert resolved before it was paged")
    assert pagerduty.events == [] and not await aredis.exists(Keys(ns).incident("fp1"))
    # A playbook run on the resolve itself (on="resolved") is not a late firing run.
    on_resolve = PagerDutyActions(**_parts(adapters, aredis, ns, tombstone=tombstone, status="resolved"))
    assert (await on_resolve.trigger("resolved, but page")).status == "ok"


async def test_a_failed_late_resolve_is_retried_without_paging_again(
    adapters: Adapters, pagerduty: PagerDutyFake, aredis: Redis, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tombstone = Keys(ns).resolved("fp1", make_alert().episode)
    persisted: list[ActionRecord] = []

    async def persist(record: ActionRecord) -> None:
        persisted.append(record)

    def parts() -> dict[str, Any]:
        completed = {r.index: r for r in persisted}
        recorder = Recorder(
            dry_run=False, paused=False, completed=completed, persist=persist, execution_id="ex-t"
        )
        return {**_parts(adapters, aredis, ns, tombstone=tombstone), "recorder": recorder}

    assert adapters.pagerduty is not None
    resolve = adapters.pagerduty.resolve

    async def unreachable(key: str) -> dict[str, Any]:
        raise TemporaryError("pagerduty resolve: connection refused")

    monkeypatch.setattr(adapters.pagerduty, "resolve", unreachable)
    pagerduty.hold.clear()  # the resolve lands while the page is on its way
    paging = asyncio.create_task(PagerDutyActions(**parts()).trigger("up"))
    assert await asyncio.to_thread(pagerduty.held.wait, 10)
    await aredis.set(tombstone, "1")
    pagerduty.hold.set()
    with pytest.raises(TemporaryError, match="resolving failed: pagerduty resolve: connection refused"):
        await paging
    assert [r.status for r in persisted] == ["pending"]  # the write-ahead intent of the page
    monkeypatch.setattr(adapters.pagerduty, "resolve", resolve)
    retried = await PagerDutyActions(**parts()).trigger("up")  # the attempt, retried
    assert retried.status == "ok" and retried.result["resolved"] == "the alert resolved while it was paged"
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]  # paged once
    assert not await aredis.exists(Keys(ns).incident("fp1"))


async def test_kube_restart_through_the_guardrails(
    adapters: Adapters, kube: KubeEmulator, aredis: Redis, ns: str
) -> None:
    kube.add(deployment("api", "llm"))
    facade = KubeActions(**_parts(adapters, aredis, ns))
    record = await facade.restart("deployment", "api", "llm")
    assert (record.status, record.target) == ("ok", "llm/deployment/api")
    annotations = kube.get("api", "llm")["spec"]["template"]["metadata"].get("annotations", {})
    assert any(key.endswith("restartedAt") for key in annotations)
    outside = await facade.restart("deployment", "api", "other-namespace")
    assert outside.status == "refused"  # not an allowed namespace
