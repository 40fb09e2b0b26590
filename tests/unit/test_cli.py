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


def test_simulate_resolved_payload_shows_the_builtin_release() -> None:
    result = runner.invoke(cli, ["simulate", str(FIXTURES / "03-CostSpike-resolved.json")])
    assert result.exit_code == 0, result.output
    assert "autonomic.resolve: would run" in result.output
    assert "no playbook matches" not in result.output
    as_json = runner.invoke(cli, ["simulate", "--json", str(FIXTURES / "03-CostSpike-resolved.json")])
    (entry,) = json.loads(as_json.stdout)
    assert [plan["playbook"] for plan in entry["plans"]] == ["autonomic.resolve"]


BROKEN = """from app.sdk import Alert, Context, playbook


@playbook(match='alertname=~"[A-Z][a-z]+Spike"')
async def forgets_await(alert: Alert, ctx: Context) -> None:
    \"\"\"Sets a flag [but forgets to await it].\"\"\"
    ctx.flags.set("llm.model_tier", "economy", ttl="1h")


@playbook(match='alertname="CostSpike"')
async def raises(alert: Alert, ctx: Context) -> None:
    raise RuntimeError("quota [exceeded]")
"""


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "broken.py").write_text(BROKEN)
    return directory


def test_simulate_reports_a_raising_and_a_never_awaiting_playbook(
    broken_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTONOMIC_PLAYBOOK_DIRS", str(broken_dir))
    result = runner.invoke(cli, ["simulate", str(FIXTURES / "00-CostSpike-firing.json")])
    assert result.exit_code == 0, result.output
    assert "raises: would fail: RuntimeError: quota [exceeded]" in result.output
    expected = f"forgets_await: would fail: ctx.flags.set() was never awaited ({broken_dir / 'broken.py'}:7)"
    assert expected in result.output
    assert "cost_spike: would run" in result.output


def test_playbooks_checks_the_given_directories(tmp_path: Path) -> None:
    source = BROKEN.replace('    ctx.flags.set("llm', '    await ctx.flags.set("llm')
    (tmp_path / "fixed.py").write_text(source)
    result = runner.invoke(cli, ["playbooks", "--json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert {"forgets_await", "raises", "cost_spike"} <= set(listed)  # built-ins load too: duplicates show
    assert listed["forgets_await"]["match"] == 'alertname=~"[A-Z][a-z]+Spike"'
    assert listed["forgets_await"]["description"] == "Sets a flag [but forgets to await it]."
    table = runner.invoke(cli, ["playbooks", str(tmp_path)])
    assert 'alertname=~"[A-Z][a-z]+Spike"' in table.output  # no markup: brackets survive


def test_playbooks_reports_an_action_that_is_not_awaited(broken_dir: Path) -> None:
    result = runner.invoke(cli, ["playbooks", str(broken_dir)])
    assert result.exit_code == 2
    assert result.output == f"error: {broken_dir / 'broken.py'}:7: ctx.flags.set() is not awaited\n"


def test_playbooks_rejects_a_missing_directory_and_a_duplicate(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["playbooks", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path / 'nope'}: not a directory"
    source = "from app.sdk import playbook\n\n@playbook(match='a=\"b\"')\n"
    (tmp_path / "dup.py").write_text(source + "async def cost_spike(alert, ctx):\n    pass\n")
    result = runner.invoke(cli, ["playbooks", str(tmp_path)])
    assert result.exit_code == 2
    assert "dup.py" in result.output and "cost_spike" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_markup_in_data_is_printed_as_is(tmp_path: Path) -> None:
    body = json.loads((FIXTURES / "00-CostSpike-firing.json").read_text())
    body["alerts"][0]["labels"]["alertname"] = "[bold red]Cost[/]"
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(body))
    result = runner.invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[bold red]Cost[/] firing ")


def test_serve_help_shows_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for expected in (
        "--host",
        "--port",
        "AUTONOMIC_HOST",
        "AUTONOMIC_PORT",
        "default: 0.0.0.0",
        "default: 8080",
    ):
        assert expected in text
    assert all(len(line) <= 80 for line in result.output.splitlines())


@pytest.mark.parametrize("args", [["serve", "--port", "0"], ["serve", "--port", "http"]])
def test_serve_bad_port_is_a_usage_error(args: list[str]) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "--port" in result.output and "Traceback" not in result.output


def test_serve_bad_port_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_PORT", "eighty")
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "AUTONOMIC_PORT" in result.output and "Traceback" not in result.output


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


def test_simulate_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for fixture in ("00-CostSpike-firing.json", "03-CostSpike-resolved.json"):
        result = runner.invoke(cli, ["simulate", str(FIXTURES / fixture)])
        assert result.exit_code == 0, result.output
        assert all(len(line) <= 80 for line in result.output.splitlines()), result.output
    text = " ".join(
        runner.invoke(cli, ["simulate", str(FIXTURES / "00-CostSpike-firing.json")]).output.split()
    )
    assert '0. flags.set llm.model_tier holder="alert:e9d2b4b8d4a3f6ea" ttl_s=7200.0 value="economy"' in text


def test_simulating_a_resolve_on_the_embedded_redis_says_it_holds_nothing() -> None:
    result = runner.invoke(cli, ["simulate", str(FIXTURES / "03-CostSpike-resolved.json")])
    text = " ".join(result.output.split())
    assert "embedded memory:// Redis holds no state of a running service" in text
    assert "AUTONOMIC_REDIS_URL" in text and "none now" not in text


def test_simulate_with_a_playbooks_directory(broken_dir: Path) -> None:
    result = runner.invoke(
        cli, ["simulate", str(FIXTURES / "00-CostSpike-firing.json"), "--playbooks", str(broken_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "raises: would fail: RuntimeError: quota [exceeded]" in result.output
    assert "cost_spike: would run" in result.output  # with the built-ins
    missing = runner.invoke(
        cli, ["simulate", str(FIXTURES / "00-CostSpike-firing.json"), "--playbooks", "/nope"]
    )
    assert missing.exit_code == 2 and missing.output.strip() == "error: /nope: not a directory"
