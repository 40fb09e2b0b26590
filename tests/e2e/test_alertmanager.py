"""A real Alertmanager (Debian prometheus-alertmanager 0.25) posting to a real service."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from tests.conftest import WEBHOOK_TOKEN
from tests.integration.helpers import executions
from tests.support.alertmanager import Alertmanager
from tests.support.procs import Service, wait_for

pytestmark = pytest.mark.e2e
COST_FLAGS = ("llm.model_tier", "cache.mode", "ratelimit.factor")


@pytest.fixture
def alertmanager(start_service: Callable[..., Service]) -> Iterator[tuple[Alertmanager, Service]]:
    svc = start_service()
    am = Alertmanager(f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN).start()
    yield am, svc
    am.stop()


def test_cost_spike_from_alertmanager_sets_and_restores_flags(
    alertmanager: tuple[Alertmanager, Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    am, svc = alertmanager
    labels = ("alertname=CostSpike", "severity=warning", "service=chat")
    am.fire(*labels, annotations=("description=Hourly spend 3x the weekly average",))

    def flags() -> dict[str, str | None]:
        return {name: sync_redis.get(flag_prefix + name) for name in COST_FLAGS}  # type: ignore[misc]

    wait_for(
        lambda: (
            flags() == {"llm.model_tier": "economy", "cache.mode": "aggressive", "ratelimit.factor": "0.5"}
        ),
        timeout=30,
        what=f"flags set by Alertmanager's notification\n{am.logs()[-2000:]}",
    )
    (execution,) = executions(svc.url, playbook="cost_spike")
    assert execution["alert"]["receiver"] == "autonomic"
    assert execution["alert"]["labels"]["service"] == "chat"
    assert execution["alert"]["annotations"]["description"] == "Hourly spend 3x the weekly average"
    assert len(execution["alert"]["fingerprint"]) == 16  # Alertmanager's own fingerprint

    am.resolve(*labels, starts_at=execution["alert"]["starts_at"])
    wait_for(lambda: set(flags().values()) == {None}, timeout=30, what="flags restored on resolve")
    (release,) = executions(svc.url, playbook="autonomic.resolve")
    assert release["alert"]["fingerprint"] == execution["alert"]["fingerprint"]
