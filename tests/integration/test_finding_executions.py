"""Finding executions against a live service and real Redis: filters by playbook, alert name,
status and finish time, with paging, on `GET /api/executions` and `autonomic executions`;
bad filters are a one-line 400 / usage error."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.helpers import OPERATOR, alert, executions, payload, post
from tests.integration.test_cli_output import as_json, cli
from tests.support.procs import Service, wait_for


@pytest.fixture
def svc(start_service: Callable[..., Service], test_playbooks: Path) -> Service:
    return start_service(AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks))


def _seed(svc: Service) -> None:
    post(svc.url, payload(*(alert("SyncTest", value=str(i)) for i in range(5))))
    post(svc.url, payload(alert("FailTest")))
    wait_for(lambda: len(executions(svc.url, limit=100)) >= 6, what="six executions")


def test_api_filters_and_pages(svc: Service) -> None:
    started = time.time()
    _seed(svc)
    sync = executions(svc.url, alertname="SyncTest")
    assert len(sync) == 5 and {e["alert"]["labels"]["alertname"] for e in sync} == {"SyncTest"}
    failed = executions(svc.url, status="failed")
    assert [e["alert"]["labels"]["alertname"] for e in failed] == ["FailTest"]
    assert {e["playbook"] for e in executions(svc.url, playbook=failed[0]["playbook"])} == {
        failed[0]["playbook"]
    }
    # Paging: two pages of two, disjoint, in the same newest-first order as one page of four.
    first = executions(svc.url, alertname="SyncTest", limit=2)
    second = executions(svc.url, alertname="SyncTest", limit=2, offset=2)
    whole = executions(svc.url, alertname="SyncTest", limit=4)
    assert [e["id"] for e in first + second] == [e["id"] for e in whole]
    # Time range: everything finished after we started; nothing in the future or before.
    assert len(executions(svc.url, since=str(started - 1), limit=100)) == 6
    assert executions(svc.url, since="2999-01-01T00:00:00Z") == []
    assert executions(svc.url, until=str(started - 60)) == []
    assert len(executions(svc.url, since="1h", alertname="SyncTest")) == 5
    for bad in ({"since": "yesterday"}, {"status": "exploded"}, {"since": "1h", "until": "2h"}):
        response = httpx.get(f"{svc.url}/api/executions", params=bad, headers=OPERATOR)
        assert response.status_code == 400, response.text
        assert "\n" not in response.json()["detail"]


def test_cli_filters(svc: Service) -> None:
    _seed(svc)
    listed = as_json(svc, "executions", "--alert", "SyncTest", "--since", "1h", "--limit", "3")
    assert len(listed) == 3 and {e["alert"]["labels"]["alertname"] for e in listed} == {"SyncTest"}
    assert [e["alert"]["labels"]["alertname"] for e in as_json(svc, "executions", "--status", "failed")] == [
        "FailTest"
    ]
    table = cli(svc, "executions", "--alert", "FailTest").stdout
    assert "FailTest" in table and "SyncTest" not in table
    error = cli(svc, "executions", "--since", "yesterday", code=2).stderr
    assert "invalid time 'yesterday'" in error and len(error.strip().splitlines()) == 1
