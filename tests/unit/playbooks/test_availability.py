"""playbooks/availability.py: fail over, restart the workload the labels name, shed load, page."""

from __future__ import annotations

import pytest

from app.testing import PlaybookKit, alert
from playbooks.availability import workload


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"namespace": "llm", "deployment": "chat"}, ("deployment", "chat", "llm")),
        ({"namespace": "llm", "statefulset": "db"}, ("statefulset", "db", "llm")),
        ({"namespace": "llm", "workload": "agent", "kind": "DaemonSet"}, ("daemonset", "agent", "llm")),
        ({"namespace": "llm", "workload": "chat"}, ("deployment", "chat", "llm")),
        ({"namespace": "llm", "workload": "x", "kind": "CronJob"}, None),
        ({"namespace": "llm"}, None),
    ],
)
def test_workload_named_by_the_labels(labels: dict[str, str], expected: object) -> None:
    assert workload(alert("ServiceDown", **labels)) == expected


async def test_service_down_fails_over_restarts_and_pages(kit: PlaybookKit) -> None:
    firing = alert("ServiceDown", namespace="llm", deployment="chat")
    outcome = await kit.send(firing)
    assert outcome.calls == [
        ("flags.set", "llm.fallback.enabled"),
        ("kube.restart", "llm/deployment/chat"),
        ("pagerduty.trigger", f"autonomic-{firing.fingerprint}"),  # the incident's dedup key
        ("slack.post", "#llm-oncall"),
    ]
    assert outcome.flags == {"llm.fallback.enabled": "true"}
    assert outcome.actions[1].status == "dry_run"  # the kit never calls Kubernetes


async def test_service_down_without_a_workload_still_pages(kit: PlaybookKit) -> None:
    outcome = await kit.send(alert("ServiceDown", namespace="llm"))
    assert outcome.kinds == ["flags.set", "pagerduty.trigger", "slack.post"]


async def test_high_request_queue_sheds_load_and_follows_up(kit: PlaybookKit) -> None:
    firing = alert("HighRequestQueue")
    outcome = await kit.send(firing)
    assert outcome.calls == [
        ("flags.set", "queue.shed_low_priority"),
        ("flags.set", "ratelimit.factor"),
        ("slack.post", "#llm-oncall"),
        ("followup.schedule", "page_if_still_firing"),
    ]
    assert outcome.actions[-1].params == {"after_s": 600.0}
    due = await kit.trigger("page_if_still_firing", firing, follow_up=True)
    assert due.calls == [("pagerduty.trigger", f"autonomic-{firing.fingerprint}")]
    assert due.actions[0].params["summary"].startswith("still firing after mitigation")
