"""What the CLI prints: plain text, JSON and tables, never interpreted as Rich markup.

Messages and data (flag names, alert labels, errors that quote user input) often hold square
brackets; the consoles here have markup and highlighting off, styles come only from `Text`
objects. Tables keep identifiers whole (an execution id cut to `ex-8da3…` cannot be passed to
`approve`): when the terminal is too narrow, the lower-priority columns are dropped, and when
even the rest do not fit, each row is printed as `header: value` lines.
"""

from __future__ import annotations

import io
import json
import re
import sys
import textwrap
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
    """A table column; `whole` columns are never shortened, the others wrap between words (to at
    least `min_width`, never inside a word) or, highest `drop_order` first, are left out when the
    terminal is too narrow."""

    header: str
    whole: bool = False
    drop_order: int = 0
    min_width: int = 16


def print_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, show_header: bool = True
) -> None:
    """Print `rows` for the current terminal width; every `whole` cell appears whole on one line."""
    sys.stdout.write("".join(f"{line}\n" for line in table_lines(columns, rows, show_header=show_header)))
    sys.stdout.flush()


def table_lines(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, show_header: bool = True
) -> list[str]:
    """The lines of a table that fits `out.width`, without trailing blanks.

    Lower-priority columns are dropped until the rest fit at readable widths. When even the
    columns that must stay do not fit, each row is printed as `header: value` lines instead;
    an identifier wider than the terminal is then still printed whole (the terminal wraps it).
    """
    width = out.width
    keep = list(range(len(columns)))
    while True:
        kept = [columns[i] for i in keep]
        cells = [[row[i] for i in keep] for row in rows]
        if _needed(kept, cells) <= width:
            lines = _render(_build(kept, cells, show_header), width)
            if _whole_cells_fit(lines, kept, cells):
                return lines
        droppable = [i for i in keep if columns[i].drop_order > 0]
        if not droppable:
            return _stacked(columns, rows, width)
        keep.remove(max(droppable, key=lambda i: columns[i].drop_order))


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _widths(column: Column, index: int, rows: Sequence[Sequence[str]]) -> tuple[int, int]:
    """(narrowest, widest) width for a column: whole cells never wrap, words never split."""
    lines = [line for row in rows for line in row[index].splitlines()]
    longest = max([len(column.header), *(len(line) for line in lines)])
    if column.whole:
        return longest, longest
    word = max([len(column.header), *(_longest_word(line) for line in lines)])
    return max(min(longest, column.min_width), word), longest


def _needed(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """The narrowest readable width of the table: the columns' narrowest widths plus gaps."""
    return sum(_widths(c, i, rows)[0] for i, c in enumerate(columns)) + 3 * (len(columns) - 1)


def _build(columns: Sequence[Column], rows: Sequence[Sequence[str]], show_header: bool) -> Table:
    grid = Table(
        box=box.SIMPLE_HEAD,
        show_header=show_header,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for index, column in enumerate(columns):
        narrowest, _ = _widths(column, index, rows)
        if column.whole:
            grid.add_column(column.header, no_wrap=True, min_width=narrowest)
        else:
            grid.add_column(column.header, overflow="fold", min_width=narrowest)
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid


_TRAILING_BLANKS = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$")


def _render(grid: Table, width: int) -> list[str]:
    """The table as lines, styled as `out` would style it, with trailing padding removed."""
    probe = Console(
        file=io.StringIO(),
        width=width,
        markup=False,
        highlight=False,
        emoji=False,
        color_system="auto" if out.color_system else None,
        force_terminal=out.is_terminal,
    )
    probe.print(grid)
    text = probe.file.getvalue()  # type: ignore[attr-defined]
    lines = [_TRAILING_BLANKS.sub(r"\1", line) for line in text.splitlines()]
    while lines and not _ANSI.sub("", lines[0]).strip():
        lines.pop(0)
    return lines


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _whole_cells_fit(lines: Sequence[str], columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> bool:
    plain = [_ANSI.sub("", line) for line in lines]
    for row in rows:
        for column, cell in zip(columns, row, strict=True):
            if column.whole and not all(any(part in line for line in plain) for part in cell.splitlines()):
                return False
    return True


def _stacked(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """One `header: value` line per cell, a blank line between rows; only non-whole values wrap.

    A value whose identifier or longest word does not fit beside its header starts on the next
    line, indented by two; one wider than the terminal is still printed whole.
    """
    label = max(len(c.header) for c in columns) + 2
    lines: list[str] = []
    for number, row in enumerate(rows):
        if number:
            lines.append("")
        for column, cell in zip(columns, row, strict=True):
            parts = cell.splitlines() or [""]
            widest = max(len(p) if column.whole else _longest_word(p) for p in parts)
            indent = label if label + widest <= width else 2
            first = f"{column.header}:".ljust(label) if indent == label else ""
            if not first:
                lines.append(f"{column.header}:")
            for position, part in enumerate(parts):
                prefix = first if position == 0 and first else " " * indent
                if column.whole:
                    lines.append(prefix + part)
                    continue
                wrapped = textwrap.wrap(
                    part,
                    max(width, indent + 1),
                    initial_indent=prefix,
                    subsequent_indent=" " * indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                lines.extend(wrapped or [prefix.rstrip()])
    return lines
