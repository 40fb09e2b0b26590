"""What the CLI prints: plain text, JSON and tables, never interpreted as Rich markup.

Messages and data (flag names, alert labels, errors that quote user input) often hold square
brackets; the consoles here have markup and highlighting off, styles come only from `Text`
objects. Tables keep identifiers whole (an execution id cut to `ex-8da3…` cannot be passed to
`approve`): when the terminal is too narrow, the lower-priority columns are dropped instead.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

out = Console(markup=False, highlight=False, emoji=False)
err = Console(stderr=True, markup=False, highlight=False, emoji=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr and exit (2: bad input or usage)."""
    err.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(code)


def note(message: str) -> None:
    """A line for the person at the terminal, on stderr so stdout stays data."""
    err.print(message)


def say(*parts: str | tuple[str, str]) -> None:
    """One line on stdout, built from plain strings and (text, style) pairs."""
    out.print(Text.assemble(*parts), soft_wrap=True)


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout, untouched by Rich."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_json_line(data: Any) -> None:
    """One compact JSON document per line (for --follow)."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Column:
    """A table column; `whole` columns are never shortened, the others wrap (to at least
    `min_width`) or, highest `drop_order` first, are left out when the terminal is too narrow."""

    header: str
    whole: bool = False
    drop_order: int = 0
    min_width: int = 16


def table(columns: Sequence[Column], rows: Sequence[Sequence[str]], *, show_header: bool = True) -> Table:
    """A table for the current terminal width that shows every `whole` cell in full."""
    keep = list(range(len(columns)))
    while True:
        kept = [columns[i] for i in keep]
        cells = [[row[i] for i in keep] for row in rows]
        candidate = _build(kept, cells, show_header)
        droppable = [i for i in keep if columns[i].drop_order > 0]
        if not droppable or (_needed(kept, cells) <= out.width and _whole_cells_fit(candidate, kept, cells)):
            return candidate  # with nothing left to drop, identifiers wider than the screen wrap
        keep.remove(max(droppable, key=lambda i: columns[i].drop_order))


def _needed(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """The narrowest readable width: whole columns at full width, the others at `min_width`."""
    total = 0
    for index, column in enumerate(columns):
        longest = max([len(column.header), *(len(line) for row in rows for line in row[index].splitlines())])
        total += (longest if column.whole else min(longest, column.min_width)) + 3  # padding, rule
    return total


def _build(columns: Sequence[Column], rows: Sequence[Sequence[str]], show_header: bool) -> Table:
    grid = Table(box=box.SIMPLE_HEAD, show_header=show_header, pad_edge=False, header_style="bold")
    for column in columns:
        if column.whole:
            grid.add_column(column.header, no_wrap=True)
        else:
            grid.add_column(column.header, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid


def _whole_cells_fit(grid: Table, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> bool:
    probe = Console(file=io.StringIO(), width=out.width, markup=False, highlight=False, color_system=None)
    probe.print(grid)
    rendered = probe.file.getvalue()  # type: ignore[attr-defined]
    lines = rendered.splitlines()
    for row in rows:
        for column, cell in zip(columns, row, strict=True):
            if column.whole and not all(any(part in line for line in lines) for part in cell.splitlines()):
                return False
    return True
