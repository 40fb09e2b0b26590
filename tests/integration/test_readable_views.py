"""What people read about playbooks and jobs is the same everywhere (API, console, CLI): whole
first-paragraph descriptions, durations like `10m`, schedules in words; and the console's and the
CLI's small courtesies (404 for an unknown section, a sensible holder name). Real service, real Redis."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import OPERATOR_TOKEN
from tests.integration.helpers import OPERATOR
from tests.support.procs import ROOT, Service, wait_for

HIGH_LATENCY = (
    "p95 latency is high: route to fallback providers and cache aggressively; page when critical, "
    "otherwise page if still firing in 10 minutes."
)


@pytest.fixture
def svc(start_service: Callable[..., Service], test_playbooks: Path) -> Service:
    return start_service(
        AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks),
        AUTONOMIC_JOB_COST_EXPORTER="interval:30s",
        AUTONOMIC_JOB_LEASE_SWEEPER="interval:5s",
        AUTONOMIC_JOB_LIFECYCLE="cron:17 * * * *",
    )


def cli(svc: Service, *args: str, columns: int = 200, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "COLUMNS": str(columns),
            "AUTONOMIC_URL": svc.url,
            "AUTONOMIC_TOKEN": OPERATOR_TOKEN,
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def log_in(browser: httpx.Client) -> None:
    page = browser.get("/ui/login")
    (csrf,) = re.findall(r'name="_csrf_token" value="([^"]+)"', page.text)
    form = {"name": "operator", "token": OPERATOR_TOKEN, "_csrf_token": csrf}  # the single token's name
    done = browser.post("/ui/login", data=form)
    assert done.status_code in (302, 303), done.text


def test_playbooks_read_the_same_in_api_console_and_cli(svc: Service) -> None:
    listed = {p["name"]: p for p in httpx.get(f"{svc.url}/api/playbooks", headers=OPERATOR).json()}
    assert listed["high_latency"]["description"] == HIGH_LATENCY
    assert (listed["high_latency"]["cooldown"], listed["high_latency"]["cooldown_s"]) == ("10m", 600)
    with httpx.Client(base_url=svc.url) as browser:
        log_in(browser)
        page = browser.get("/ui").text
    assert HIGH_LATENCY in page and "cooldown 10m" in page and "cooldown 600" not in page
    table = cli(svc, "playbooks", columns=400)
    (row,) = [line for line in table.splitlines() if line.startswith("high_latency ")]
    assert row.split(maxsplit=5)[3:] == ["10m", "no", HIGH_LATENCY]


def test_job_schedules_are_words(svc: Service) -> None:
    jobs = {j["id"]: j["schedule"] for j in httpx.get(f"{svc.url}/api/jobs", headers=OPERATOR).json()["jobs"]}
    assert jobs == {
        "cost_exporter": "every 30s",
        "lease_sweeper": "every 5s",
        "lifecycle": "hourly at :17",
        "reconciler": "every 30s",
    }
    with httpx.Client(base_url=svc.url) as browser:
        log_in(browser)
        fragment = browser.get("/ui/fragments/jobs").text
        assert browser.get("/ui/fragments/no-such-section").status_code == 404
    assert "every 5s" in fragment and "hourly at :17" in fragment and "interval[" not in fragment
    table = cli(svc, "jobs")
    assert "every 30s" in table and "hourly at :17" in table and "interval[" not in table


def test_an_unnamed_operator_is_not_operator_operator(svc: Service) -> None:
    # The single-token setting is named `operator`; the CLI user's login name names no one (the
    # server records the token's name, never a name the caller claims).
    env = {"USER": "", "LOGNAME": "alice-from-logname"}
    out = cli(svc, "trigger", "scale_chat", "-p", "replicas=3", "--reason", "test", **env)
    execution_id = out.split()[-1]

    def holder() -> str | None:
        record = httpx.get(f"{svc.url}/api/executions/{execution_id}", headers=OPERATOR).json()
        return record["actions"][0]["params"]["holder"] if record.get("actions") else None

    assert wait_for(holder, what="the manual run") == "operator"
    anonymous = httpx.post(
        f"{svc.url}/api/playbooks/scale_chat/trigger", json={"params": {"replicas": 2}}, headers=OPERATOR
    ).json()["execution_id"]
    execution_id = anonymous
    assert wait_for(holder, what="the API run") == "operator"
