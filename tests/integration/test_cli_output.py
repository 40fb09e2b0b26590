"""The CLI against a live service, as a separate process in an 80-column terminal: `--json` on
every listing, identifiers whole, messages on one line and never read as Rich markup; the
service's simulation shows what a resolve would release."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import OPERATOR_TOKEN
from tests.integration.helpers import OPERATOR, alert, executions, flags, payload, post, resolved
from tests.support.procs import ROOT, Service, wait_for


@pytest.fixture
def svc(start_service: Callable[..., Service], test_playbooks: Path) -> Service:
    return start_service(AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks))


def cli(svc: Service, *args: str, code: int = 0, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """Run the CLI; every line a person reads (anything but JSON) fits the terminal, unless it
    is a single word (an id wider than the terminal is printed whole)."""
    env = {**os.environ, "COLUMNS": str(columns), "AUTONOMIC_URL": svc.url, "AUTONOMIC_TOKEN": OPERATOR_TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == code, result.stdout + result.stderr
    readable = result.stderr if "--json" in args else result.stdout + result.stderr
    for line in readable.splitlines():
        assert len(line) <= columns or len(line.split()) == 1, line
    return result


def as_json(svc: Service, *args: str) -> Any:
    return json.loads(cli(svc, *args, "--json").stdout)


def test_every_listing_has_json_and_tables_keep_ids_whole(svc: Service) -> None:
    post(svc.url, payload(alert("CostSpike", service="chat"), alert("GatedTest")))
    wait_for(lambda: executions(svc.url), what="the cost_spike execution")
    wait_for(lambda: httpx.get(f"{svc.url}/api/approvals", headers=OPERATOR).json(), what="a gate")

    listed = as_json(svc, "executions")
    assert "cost_spike" in {e["playbook"] for e in listed}  # the gated one waits, unlisted
    table = cli(svc, "executions").stdout
    for execution in listed:
        assert execution["id"] in table  # whole, so it can be pasted into `approve`
    assert "…" not in table

    (pending,) = as_json(svc, "approvals")
    assert pending["execution_id"] in cli(svc, "approvals").stdout
    assert {f["name"] for f in as_json(svc, "flags")} >= {"llm.model_tier", "cache.mode"}
    plain = cli(svc, "flags", columns=200).stdout
    assert "llm.model_tier" in plain
    # Expiry the way an operator writes it (a 2h lease shows as 1h59m…), never raw seconds.
    assert re.search(r"\b1h59m\d+s\b|\b2h\b", plain) and not re.search(r"\b7\d{3}s\b", plain), plain

    jobs = as_json(svc, "jobs")
    assert {j["id"] for j in jobs["jobs"]} >= {"cost_exporter", "lease_sweeper"}
    assert "lease_sweeper" in cli(svc, "jobs").stdout

    follow = cli(svc, "executions", "--follow", "--json", "--interval", "0.1", "--max-polls", "2").stdout
    assert {json.loads(line)["id"] for line in follow.splitlines()} == {e["id"] for e in listed}

    for narrow in (40, 60):  # at any width: ids and names whole, on one line
        words = set(cli(svc, "executions", columns=narrow).stdout.split())
        assert {e["id"] for e in listed} | {e["playbook"] for e in listed} <= words
        words = set(cli(svc, "jobs", columns=narrow).stdout.split())
        assert {j["id"] for j in jobs["jobs"]} <= words
        assert pending["execution_id"] in cli(svc, "approvals", columns=narrow).stdout.split()
        assert "llm.model_tier" in cli(svc, "flags", columns=narrow).stdout.split()

    approved = cli(svc, "approve", pending["execution_id"]).stdout
    assert approved.startswith(f"approved gated ({pending['execution_id']})")


def test_errors_quote_user_input_verbatim(svc: Service) -> None:
    result = cli(svc, "flags", "--revert", "BAD NAME", code=2)
    assert result.stderr == "error: 400: invalid flag name 'BAD NAME': use [a-z0-9_.-]+ (max 200)\n"
    assert "Traceback" not in result.stderr
    result = cli(svc, "trigger", "cost_spike", "--label", "[bold]", code=2)
    assert result.stderr == "error: --label '[bold]': use k=v\n"


def test_simulating_a_resolve_shows_what_it_would_release(svc: Service) -> None:
    firing = alert("CostSpike", service="chat")
    post(svc.url, payload(firing))
    wait_for(lambda: "llm.model_tier" in flags(svc.url), what="the lease")
    response = httpx.post(f"{svc.url}/api/alerts/simulate", json=payload(resolved(firing)), headers=OPERATOR)
    assert response.status_code == 200, response.text
    (plan,) = response.json()["alerts"]
    release, *rest = plan["playbooks"]
    assert release["playbook"] == "autonomic.resolve" and release["would_run"]
    (released,) = [a for a in release["actions"] if a["kind"] == "flags.release_all"]
    assert released["target"] == f"alert:{firing['fingerprint']}"
    assert released["params"]["flags"] == ["cache.mode", "llm.model_tier", "ratelimit.factor"]
    assert not rest
    assert "llm.model_tier" in flags(svc.url)  # a simulation changes nothing
