"""The reconciler against a local Alertmanager API fake: an alert missing for two passes (and
long enough) is resolved, one still reported is renewed, nothing changes while no Alertmanager
answers, and without Alertmanager unseen alerts are forgotten."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from redis.asyncio import Redis

from app.actions.alertmanager import AlertmanagerClient
from app.actions.flags import FlagStore
from app.engine.firing import FiringAlerts
from app.engine.lanes import NORMAL
from app.engine.pause import PauseStore
from app.engine.queue import AlertQueue
from app.engine.reconciler import Reconciler
from app.keys import Keys
from tests.support.fakes import FakeServer, Reply
from tests.unit.conftest import make_alert


class _Alertmanager:
    def __init__(self) -> None:
        self.active: list[dict[str, Any]] = []
        self.up = True
        self.server = FakeServer(self._handle)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if not self.up:
            return Reply(503, {})
        return Reply(200, self.active)  # type: ignore[arg-type]


@pytest.fixture
def alertmanager() -> Iterator[_Alertmanager]:
    fake = _Alertmanager()
    yield fake
    fake.server.stop()


def _reconciler(redis: Redis, ns: str, url: str | None) -> Reconciler:
    keys = Keys(ns)
    flags = FlagStore(redis, prefix=f"{ns}flags:", namespace=ns, grace_s=0)
    firing = FiringAlerts(redis, keys, flags, dedup_ttl_s=60)
    queue = AlertQueue(redis, keys, max_len=100, dedup_ttl_s=60)
    client = AlertmanagerClient([url], httpx.AsyncClient(timeout=2)) if url else None
    return Reconciler(firing, PauseStore(redis, keys, flags), client, queue, resolve_after_s=0)


async def test_an_alert_gone_for_two_passes_is_resolved(
    alertmanager: _Alertmanager, aredis: Redis, ns: str
) -> None:
    reconciler = _reconciler(aredis, ns, alertmanager.server.url)
    await reconciler.firing.track(make_alert(fingerprint="gone"))
    await reconciler.firing.track(make_alert(fingerprint="still"))
    alertmanager.active = [{"fingerprint": "still", "status": {"state": "active"}}]
    first = await reconciler.run()
    assert (first["active"], first["absent"], first["resolved"]) == (1, 1, [])
    second = await reconciler.run()
    assert second["resolved"] == ["gone"]
    ((_, fields),) = await aredis.xrange(Keys(ns).lane(NORMAL))
    assert msgspec.json.decode(fields["a"])["fingerprint"] == "gone"
    assert set(await reconciler.firing.tracked()) == {"still"}


async def test_nothing_changes_while_no_alertmanager_answers(
    alertmanager: _Alertmanager, aredis: Redis, ns: str
) -> None:
    reconciler = _reconciler(aredis, ns, alertmanager.server.url)
    await reconciler.firing.track(make_alert(fingerprint="fp"))
    alertmanager.up = False
    for _ in range(3):
        assert (await reconciler.run())["alertmanager"] == "unreachable"
    assert set(await reconciler.firing.tracked()) == {"fp"}
    assert await aredis.xlen(Keys(ns).lane(NORMAL)) == 0


async def test_without_alertmanager_unseen_alerts_are_forgotten(aredis: Redis, ns: str) -> None:
    reconciler = _reconciler(aredis, ns, None)
    await reconciler.firing.track(make_alert(fingerprint="unseen"))
    await reconciler.firing.track(make_alert(fingerprint="seen"))
    await reconciler.firing.mark_seen(["seen"])
    result = await reconciler.run()
    assert result["forgotten"] == ["unseen"] and set(await reconciler.firing.tracked()) == {"seen"}


async def test_deferred_alerts_are_reapplied_only_when_not_paused(aredis: Redis, ns: str) -> None:
    reconciler = _reconciler(aredis, ns, None)
    await reconciler.firing.defer(make_alert())
    await reconciler.pause.pause("maintenance", "alice")
    assert await reconciler.reapply() == []
    await reconciler.pause.resume("alice")
    assert await reconciler.reapply() == ["fp1"]
