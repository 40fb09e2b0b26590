"""Reading Alertmanager's active alerts: merged over members, partial answers reported, None
when nobody answered (then a follow-up errs on the safe side and runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from app.actions.alertmanager import AlertmanagerClient, AlertmanagerUnreachable
from app.settings import Settings
from tests.support.fakes import FakeServer, Reply


def _member(answer: Any) -> Callable[[str, str, dict[str, str], bytes], Reply]:
    def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if not path.startswith("/api/v2/alerts?") or "active=true" not in path:
            return Reply(404, {})
        return Reply(200, answer)

    return handle


@pytest.fixture
def members() -> Iterator[list[FakeServer]]:
    good = FakeServer(_member([{"fingerprint": "fp1", "status": {"state": "active"}}, {"no": "fingerprint"}]))
    other = FakeServer(_member([{"fingerprint": "fp2", "status": {"state": "suppressed"}}]))
    broken = FakeServer(_member({"not": "a list"}))
    yield [good, other, broken]
    for server in (good, other, broken):
        server.stop()


def _client(*urls: str) -> AlertmanagerClient:
    return AlertmanagerClient(list(urls), httpx.AsyncClient(timeout=2))


async def test_active_alerts_are_merged_over_answering_members(members: list[FakeServer]) -> None:
    good, other, broken = members
    client = _client(good.url, other.url, broken.url)
    active, problems = await client.active()
    assert sorted(active) == ["fp1", "fp2"]
    assert len(problems) == 1 and problems[0].startswith(f"{broken.url}: ValueError")
    assert await client.is_active("fp1") is True and await client.is_active("fp3") is False
    await client.close()


async def test_nobody_answering_means_unknown(members: list[FakeServer]) -> None:
    client = _client("http://127.0.0.1:1", members[2].url)
    with pytest.raises(AlertmanagerUnreachable):
        await client.active()
    assert await client.is_active("fp1") is None
    await client.close()


def test_from_settings_only_when_configured() -> None:
    assert AlertmanagerClient.from_settings(Settings()) is None
    client = AlertmanagerClient.from_settings(
        Settings(alertmanager_urls="http://am:9093", alertmanager_token="t0ken-value")  # type: ignore[arg-type]
    )
    assert client is not None and client.urls == ["http://am:9093"]
    assert client.client.headers["Authorization"] == "Bearer t0ken-value"
