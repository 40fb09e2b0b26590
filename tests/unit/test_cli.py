"""The local CLI commands through Typer's runner (embedded memory:// Redis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alertmanager"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_REDIS_URL", "memory://")
    monkeypatch.setenv("AUTONOMIC_PLAYBOOK_ENTRY_POINTS", "false")
    monkeypatch.setenv("COLUMNS", "200")


def test_playbooks_lists_the_builtins() -> None:
    result = runner.invoke(cli, ["playbooks"])
    assert result.exit_code == 0, result.output
    for name in ("cost_spike", "daily_cost_exceeded", "user_budget_exceeded"):
        assert name in result.output
    assert 'alertname="CostSpike"' in result.output


def test_playbooks_fails_in_one_line_on_a_broken_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.py").write_text("import nope_not_a_module\n")
    monkeypatch.setenv("AUTONOMIC_PLAYBOOK_DIRS", str(tmp_path))
    result = runner.invoke(cli, ["playbooks"])
    assert result.exit_code == 2
    assert "bad.py" in result.output and "ModuleNotFoundError" in result.output
    assert "Traceback" not in result.output


def test_simulate_prints_the_plan() -> None:
    result = runner.invoke(cli, ["simulate", str(FIXTURES / "00-CostSpike-firing.json")])
    assert result.exit_code == 0, result.output
    assert "cost_spike: would run" in result.output
    assert "flags.set llm.model_tier" in result.output


def test_simulate_json_output() -> None:
    result = runner.invoke(cli, ["simulate", "--json", str(FIXTURES / "01-UserBudgetExceeded-firing.json")])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    (plan,) = entry["plans"]
    assert plan["playbook"] == "user_budget_exceeded"
    assert [(a["kind"], a["target"]) for a in plan["actions"]] == [
        ("flags.set", "ratelimit.user.u-42"),
        ("notify.user", "u-42"),
    ]


def test_simulate_resolved_payload_matches_nothing() -> None:
    result = runner.invoke(cli, ["simulate", str(FIXTURES / "03-CostSpike-resolved.json")])
    assert result.exit_code == 0, result.output
    assert "no playbook matches" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), (b"{oops", "malformed JSON"), (b'{"alerts": 3}', "invalid payload")],
)
def test_simulate_user_errors_are_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "payload.json"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_settings_are_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_WORKERS", "zero")
    result = runner.invoke(cli, ["playbooks"])
    assert result.exit_code == 2
    assert "AUTONOMIC_WORKERS" in result.output
