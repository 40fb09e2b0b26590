"""The PagerDuty adapter against the local Events API fake: severities, one incident per alert,
429/5xx retried, a refused event final."""

from __future__ import annotations

import ssl

import pytest

from app.actions.pagerduty import PagerDutyAdapter, dedup_key, severity_of
from app.actions.retry import ActionFailed, RetryPolicy
from app.errors import PermanentError
from tests.conftest import PD_ROUTING_KEY
from tests.support.fakes import PagerDutyFake

POLICY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


def _adapter(pagerduty: PagerDutyFake, routing_key: str = PD_ROUTING_KEY) -> PagerDutyAdapter:
    verify = ssl.create_default_context(cafile=str(pagerduty.ca_bundle))  # type: ignore[attr-defined]
    return PagerDutyAdapter(routing_key, policy=POLICY, events_url=pagerduty.url, timeout=2, verify=verify)


def test_severities_and_keys() -> None:
    assert severity_of({"severity": "Critical"}) == "critical"
    assert severity_of({"severity": "medium"}) == "warning"
    assert severity_of({}) == "error" and severity_of({"severity": "odd"}, "info") == "info"
    assert dedup_key("fp1") == "autonomic-fp1"


async def test_trigger_then_resolve_one_incident(pagerduty: PagerDutyFake) -> None:
    adapter = _adapter(pagerduty)
    pagerduty.fail_next(1, 500)
    sent = await adapter.trigger(
        key="autonomic-fp1", summary="x" * 2000, source="api", severity="error", custom_details={}, links=[]
    )
    assert sent == {"dedup_key": "autonomic-fp1"}
    await adapter.resolve("autonomic-fp1")
    assert pagerduty.incidents() == ["autonomic-fp1"]
    (trigger,) = pagerduty.actions("trigger")
    assert len(trigger["payload"]["summary"]) == 1024


async def test_refused_and_unreachable(pagerduty: PagerDutyFake) -> None:
    with pytest.raises(PermanentError, match="refused the event: HTTP 400"):
        await _adapter(pagerduty, "wrong-key").acknowledge("autonomic-fp1")
    pagerduty.fail_next(3, 503)
    with pytest.raises(ActionFailed, match="pagerduty acknowledge failed after 3 tries"):
        await _adapter(pagerduty).acknowledge("autonomic-fp1")
