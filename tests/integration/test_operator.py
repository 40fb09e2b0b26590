"""The operator surface over HTTP and through the CLI: manual triggers, approval gates, reverts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import NAMED_OPERATOR_TOKENS, NAMED_OPERATORS, OPERATOR_TOKEN, VIEWER_TOKEN, bearer
from tests.integration.helpers import OPERATOR, alert, executions, payload, post
from tests.support.procs import Service, wait_for

VIEWER = bearer(VIEWER_TOKEN)
runner = CliRunner()


@pytest.fixture
def svc(start_service: Callable[..., Service], test_playbooks: Path) -> Service:
    return start_service(
        AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks),
        AUTONOMIC_VIEWER_TOKEN=VIEWER_TOKEN,
        AUTONOMIC_OPERATOR_TOKENS=NAMED_OPERATOR_TOKENS,
    )


def execution(svc: Service, ex_id: str) -> dict[str, object]:
    response = httpx.get(f"{svc.url}/api/executions/{ex_id}", headers=OPERATOR)
    return response.json() if response.status_code == 200 else {}  # type: ignore[no-any-return]


def test_manual_trigger_runs_through_the_queue_with_actor_and_reason(
    svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    body = {"params": {"replicas": 3}, "reason": "load test", "labels": {"service": "chat"}}
    response = httpx.post(
        f"{svc.url}/api/playbooks/scale_chat/trigger",
        json=body,
        # The actor is the token's name; a header claiming another name is ignored.
        headers={**bearer(NAMED_OPERATORS["alice"]), "X-Autonomic-Actor": "mallory"},
    )
    assert response.status_code == 202, response.text
    ex_id = response.json()["execution_id"]
    done = wait_for(
        lambda: execution(svc, ex_id).get("status") == "succeeded" and execution(svc, ex_id), what="run"
    )
    assert (done["source"], done["actor"], done["reason"]) == ("manual", "alice", "load test")
    assert done["params"] == {"replicas": 3}
    assert sync_redis.get(flag_prefix + "manual.replicas") == "3"
    assert done["actions"][0]["params"]["holder"] == "operator:alice"  # type: ignore[index]


def test_manual_trigger_errors(svc: Service) -> None:
    url = f"{svc.url}/api/playbooks"
    assert httpx.post(f"{url}/nope/trigger", json={}, headers=OPERATOR).status_code == 404
    bad = httpx.post(f"{url}/scale_chat/trigger", json={"params": {"replicas": 99}}, headers=OPERATOR)
    assert bad.status_code == 422
    assert "replicas" in bad.json()["detail"]
    assert httpx.post(f"{url}/scale_chat/trigger", json={"params": {}}, headers=OPERATOR).status_code == 422
    assert (
        httpx.post(f"{url}/cost_spike/trigger", json={"params": {"x": 1}}, headers=OPERATOR).status_code
        == 422
    )
    assert httpx.post(f"{url}/cost_spike/trigger", json={"bogus": 1}, headers=OPERATOR).status_code == 400
    assert httpx.post(f"{url}/cost_spike/trigger", json={}, headers=VIEWER).status_code == 403
    assert httpx.post(f"{url}/cost_spike/trigger", json={}).status_code == 401


def test_dry_run_trigger_changes_nothing(svc: Service, sync_redis: redis.Redis, flag_prefix: str) -> None:
    response = httpx.post(
        f"{svc.url}/api/playbooks/cost_spike/trigger", json={"dry_run": True}, headers=OPERATOR
    )
    ex_id = response.json()["execution_id"]
    done = wait_for(
        lambda: execution(svc, ex_id).get("status") == "succeeded" and execution(svc, ex_id), what="run"
    )
    assert done["dry_run"] is True
    assert sync_redis.get(flag_prefix + "llm.model_tier") is None


def test_playbook_approval_approved_runs_and_records_the_approver(
    svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    post(svc.url, payload(alert("GatedTest")))
    (pending,) = wait_for(lambda: httpx.get(f"{svc.url}/api/approvals", headers=VIEWER).json(), what="gate")
    assert pending["playbook"] == "gated"
    assert execution(svc, pending["execution_id"])["status"] == "awaiting_approval"
    assert sync_redis.get(flag_prefix + "gated.flag") is None
    url = f"{svc.url}/api/executions/{pending['execution_id']}/approve"
    assert httpx.post(url, headers=VIEWER).status_code == 403
    assert httpx.post(url, json={"comment": "ok"}, headers=bearer(NAMED_OPERATORS["bob"])).status_code == 200
    assert httpx.post(url, headers=OPERATOR).status_code == 404  # decided already
    done = wait_for(
        lambda: (
            execution(svc, pending["execution_id"]).get("status") == "succeeded"
            and execution(svc, pending["execution_id"])
        ),
        what="approved run",
    )
    gate = done["actions"][0]  # type: ignore[index]
    assert gate["kind"] == "approval"
    assert gate["params"]["approval"]["by"] == "bob"
    assert sync_redis.get(flag_prefix + "gated.flag") == "on"


def test_action_approval_rejected_stops_and_does_not_repeat_earlier_actions(
    svc: Service, sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    post(svc.url, payload(alert("ActionGateTest")))
    (pending,) = wait_for(lambda: httpx.get(f"{svc.url}/api/approvals", headers=OPERATOR).json(), what="gate")
    assert pending["description"] == "set flag gated.action=on"
    httpx.post(
        f"{svc.url}/api/executions/{pending['execution_id']}/reject", headers=OPERATOR
    ).raise_for_status()
    done = wait_for(
        lambda: (
            execution(svc, pending["execution_id"]).get("status") == "rejected"
            and execution(svc, pending["execution_id"])
        ),
        what="rejected",
    )
    assert "rejected by operator" in done["error"]  # type: ignore[operator]
    assert sync_redis.get(f"{ns}effects:before-gate") == "1"
    assert sync_redis.get(flag_prefix + "gated.action") is None


def test_approval_timeout_rejects(start_service: Callable[..., Service], test_playbooks: Path) -> None:
    svc = start_service(AUTONOMIC_PLAYBOOK_DIRS=str(test_playbooks), AUTONOMIC_APPROVAL_TIMEOUT="1s")
    post(svc.url, payload(alert("GatedTest")))
    (run,) = wait_for(
        lambda: [r for r in executions(svc.url, playbook="gated") if r["status"] == "rejected"],
        what="timed out",
    )
    assert "rejected by timeout" in run["error"]


def invoke(svc: Service, *args: str) -> str:
    token = NAMED_OPERATORS["carol"]
    result = runner.invoke(cli, [*args, "--url", svc.url, "--token", token], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_against_a_live_server(svc: Service, sync_redis: redis.Redis, flag_prefix: str) -> None:
    out = invoke(svc, "trigger", "cost_spike", "--label", "service=chat", "--reason", "drill")
    ex_id = out.strip().split()[-1]
    wait_for(lambda: execution(svc, ex_id).get("status") == "succeeded", what="cli trigger ran")
    assert execution(svc, ex_id)["actor"] == "carol"
    listed = invoke(svc, "flags")
    assert "llm.model_tier" in listed and "operator:carol" in listed
    assert "cost_spike" in invoke(svc, "executions", "--limit", "5")
    assert "cost_spike" in invoke(svc, "executions", "--follow", "--interval", "0.1", "--max-polls", "2")
    assert "reverted cache.mode" in invoke(svc, "flags", "--revert", "cache.mode")
    assert sync_redis.get(flag_prefix + "cache.mode") is None

    post(svc.url, payload(alert("GatedTest")))
    wait_for(lambda: httpx.get(f"{svc.url}/api/approvals", headers=OPERATOR).json(), what="gate")
    assert "gated" in invoke(svc, "approvals")
    (pending,) = httpx.get(f"{svc.url}/api/approvals", headers=OPERATOR).json()
    assert "approved gated" in invoke(svc, "approve", pending["execution_id"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trigger", "nope"], "404: no playbook 'nope'"),
        (["trigger", "scale_chat", "--param", "replicas=99"], "422: invalid params"),
        (["trigger", "cost_spike", "--label", "novalue"], "use k=v"),
        (["flags", "--revert", "not.held"], "404"),
        (["approve", "ex-none"], "not waiting for approval"),
    ],
)
def test_cli_user_errors_are_one_line(svc: Service, args: list[str], message: str) -> None:
    result = runner.invoke(cli, [*args, "--url", svc.url, "--token", OPERATOR_TOKEN])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_bad_token_and_unreachable_server(svc: Service) -> None:
    result = runner.invoke(cli, ["flags", "--url", svc.url, "--token", "wrong"])
    assert result.exit_code == 2 and "unauthorized" in result.output
    result = runner.invoke(cli, ["flags", "--url", "http://127.0.0.1:1", "--token", "x"])
    assert result.exit_code == 2 and "cannot reach" in result.output
