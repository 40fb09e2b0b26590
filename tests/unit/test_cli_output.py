"""CLI tables keep identifiers whole at 80 columns, dropping lower-priority columns instead."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from app.cli_output import Column, table

COLUMNS = [
    Column("time", drop_order=3),
    Column("playbook", whole=True),
    Column("alert", drop_order=2),
    Column("status"),
    Column("actions", drop_order=1),
    Column("id", whole=True),
]
ROWS = [
    [
        "12:00:00",
        f"prompt_injection_attempts_{n}",
        "PromptInjectionAttempts",
        "succeeded",
        "flags.set safety.prompt_guard (ok), flags.set ratelimit.factor (ok), pagerduty.trigger x (ok)",
        f"ex-{n}8da3ba4c0f1e2d3c4b5a6",
    ]
    for n in range(3)
]


def render(width: int, grid: object) -> str:
    console = Console(file=io.StringIO(), width=width, markup=False, highlight=False, color_system=None)
    console.print(grid)
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_ids_and_names_are_never_cut(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    text = render(width, table(COLUMNS, ROWS))
    for row in ROWS:
        assert row[1] in text and row[5] in text
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines())


def test_wide_terminals_keep_every_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    header = render(200, table(COLUMNS, ROWS)).splitlines()[1]
    assert header.split() == ["time", "playbook", "alert", "status", "actions", "id"]
    monkeypatch.setenv("COLUMNS", "80")
    header = render(80, table(COLUMNS, ROWS)).splitlines()[1]
    assert "actions" not in header and {"playbook", "id", "status"} <= set(header.split())


def test_markup_in_cells_is_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = render(80, table([Column("flag", whole=True)], [["[bold]x[/bold]"]]))
    assert "[bold]x[/bold]" in text
