"""CLI tables keep identifiers and words whole at any width: columns are dropped, then rows stacked."""

from __future__ import annotations

import pytest

from app.cli_output import Column, table_lines

COLUMNS = [
    Column("time", drop_order=3),
    Column("playbook", whole=True),
    Column("alert", drop_order=2),
    Column("status"),
    Column("actions", drop_order=1),
    Column("id", whole=True),
]
HOLDER = "alert:HighLatency:0f1e2d3c4b5a6978"
ROWS = [
    [
        "12:00:00",
        f"prompt_injection_attempts_{n}",
        "PromptInjectionAttempts",
        "succeeded",
        f"flags.set safety.prompt_guard (ok), flags.release cache.mode {HOLDER} (ok)",
        f"ex-{n}8da3ba4c53255c72a1b2c3d4e5f6",
    ]
    for n in range(3)
]


def lines_at(
    monkeypatch: pytest.MonkeyPatch, width: int, columns: list[Column], rows: list[list[str]]
) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    return table_lines(columns, rows)


@pytest.mark.parametrize("width", [20, 40, 60, 80, 120, 200])
def test_ids_names_and_words_are_never_cut(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    lines = lines_at(monkeypatch, width, COLUMNS, ROWS)
    text = "\n".join(lines)
    words = {word for line in lines for word in line.split()}
    for row in ROWS:
        assert row[1] in words and row[5] in words  # whole, on one line
    assert "…" not in text
    if "actions" in text:
        assert HOLDER in words  # wrapped between words, never inside one
    for line in lines:  # only an unbreakable value (one word) may run past the edge
        assert len(line) <= width or len(line.split()) == 1, line
    assert all(line == line.rstrip() for line in lines)
    assert lines[0].strip()


def test_wide_terminals_keep_every_column(monkeypatch: pytest.MonkeyPatch) -> None:
    header = lines_at(monkeypatch, 200, COLUMNS, ROWS)[0]
    assert header.split() == ["time", "playbook", "alert", "status", "actions", "id"]
    header = lines_at(monkeypatch, 80, COLUMNS, ROWS)[0]
    assert header.split() == ["playbook", "status", "id"]


def test_too_narrow_for_a_table_prints_one_value_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = lines_at(monkeypatch, 40, COLUMNS, ROWS[:1])
    assert lines[:4] == [
        "time:     12:00:00",
        "playbook: prompt_injection_attempts_0",
        "alert:    PromptInjectionAttempts",
        "status:   succeeded",
    ]
    assert lines[-2:] == ["id:", "  ex-08da3ba4c53255c72a1b2c3d4e5f6"]


def test_an_id_wider_than_the_terminal_is_printed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    long_id = "ex-" + "0123456789" * 5
    lines = lines_at(monkeypatch, 30, [Column("id", whole=True)], [[long_id]])
    assert f"  {long_id}" in lines


def test_markup_in_cells_is_text(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = lines_at(monkeypatch, 80, [Column("flag", whole=True)], [["[bold]x[/bold]"]])
    assert "[bold]x[/bold]" in "\n".join(lines)
