"""Usage errors and the command list, as the installed entry point prints them (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.procs import ROOT


def autonomic(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("AUTONOMIC_PORT", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "--port", "99999"], "'--port'"),
        (["serve", "--port", "abc"], "valid integer"),
        (["no-such-command"], "No such command 'no-such-command'"),
        (["flags", "--no-such-option"], "No such option: --no-such-option"),
        (["simulate"], "Missing argument 'FILE'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], expected: str) -> None:
    done = autonomic(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Usage:" not in done.stderr and "Traceback" not in done.stderr


def test_bare_command_still_shows_the_help() -> None:
    done = autonomic()
    assert "Commands:" in done.stdout + done.stderr


def test_every_command_summary_is_a_whole_sentence_at_80_columns() -> None:
    done = autonomic("--help")
    assert done.returncode == 0
    commands = done.stdout.split("Commands:", 1)[1].strip().splitlines()
    assert len(commands) >= 10
    for line in commands:
        _name, summary = line.split(maxsplit=1)
        assert summary.endswith(".") and not summary.endswith("..."), line
