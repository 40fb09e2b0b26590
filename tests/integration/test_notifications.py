"""A notification cannot stop a page: with Slack answering `channel_not_found`, or not
reachable at all, the built-in playbooks still page; the Slack failure is recorded and the
execution ends `succeeded_with_failures`, visible in the API, the console and the metrics."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import OPERATOR_TOKEN
from tests.integration.helpers import alert, executions, payload, post
from tests.support.fakes import PagerDutyFake, SlackFake
from tests.support.procs import Service, free_port, wait_for


def console_page(svc: Service, path: str) -> str:
    with httpx.Client(base_url=svc.url) as client:
        login = client.get("/ui/login")
        field = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert field
        form = {"name": "operator", "token": OPERATOR_TOKEN, "_csrf_token": field.group(1)}
        client.post("/ui/login", data=form)
        page = client.get(path)
        assert page.status_code == 200
        return page.text


@pytest.mark.parametrize("failure", ["channel_not_found", "unreachable"])
@pytest.mark.parametrize(
    ("alertname", "playbook", "channel"),
    [
        ("DailyCostExceeded", "daily_cost_exceeded", "#cost-alerts"),
        ("PIIDetectionSpike", "pii_detection_spike", "#security"),
    ],
)
def test_slack_failure_still_pages(
    failure: str,
    alertname: str,
    playbook: str,
    channel: str,
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    slack: SlackFake,
    pagerduty: PagerDutyFake,
) -> None:
    env = dict(outside_env)
    if failure == "unreachable":
        env["AUTONOMIC_SLACK_BASE_URL"] = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens
    else:
        slack.missing.add(channel)
    svc = start_service(**env)
    item = alert(alertname, severity="critical")
    post(svc.url, payload(item))
    (run,) = wait_for(lambda: executions(svc.url, playbook=playbook), timeout=30, what="execution")
    assert [e["dedup_key"] for e in pagerduty.actions("trigger")] == [f"autonomic-{item['fingerprint']}"]
    assert run["status"] == "succeeded_with_failures"
    kinds = [(a["kind"], a["status"]) for a in run["actions"]]
    assert kinds[-2:] == [("pagerduty.trigger", "ok"), ("slack.post", "failed")]  # paged first
    note = run["actions"][-1]
    assert note["best_effort"] is True
    assert ("channel_not_found" if failure == "channel_not_found" else "unreachable") in note["error"]
    assert slack.messages == []
    assert executions(svc.url, status="succeeded_with_failures")[0]["id"] == run["id"]
    metrics = httpx.get(f"{svc.url}/metrics").text
    assert (
        f'autonomic_executions_total{{playbook="{playbook}",status="succeeded_with_failures"}} 1.0' in metrics
    )
    page = console_page(svc, f"/ui/executions/{run['id']}")
    assert "succeeded_with_failures" in page and "best-effort" in page
