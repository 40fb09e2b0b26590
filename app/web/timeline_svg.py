"""The mitigation timeline as an SVG drawn on the server: one row per flag, a bar for each
period a leased (non-baseline) value held, coloured by value, the holder in the bar's
tooltip, and marks where an alert fired (took the lease) or resolved (released it).

Plain SVG with presentation attributes and `<title>` tooltips: no script and no style
attribute, so it renders under the console's strict Content-Security-Policy.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from app.actions.flag_history import Change, Period

RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400}
_TICKS = {3600: 600, 6 * 3600: 3600, 86400: 3 * 3600, 7 * 86400: 86400}
PALETTE = ("#3451b2", "#b54708", "#1f7a4d", "#8e3bb0", "#b42318", "#0e7490", "#a16207", "#4b5563")
INK = "#1d2430"
WIDTH, LABEL_W, ROW_H, BAR_H, AXIS_H = 1200, 190, 26, 16, 22


def colour(value: str | None) -> str:
    """The same colour for the same value, on every page and replica."""
    return PALETTE[zlib.crc32((value or "").encode()) % len(PALETTE)]


def _x(t: float, since: float, until: float) -> float:
    return LABEL_W + (WIDTH - LABEL_W - 8) * (min(max(t, since), until) - since) / (until - since)


def _text(x: float, y: float, body: str, *, size: int = 11, fill: str = "#6b7380", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}"{extra}>{escape(body)}</text>'


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def render(
    periods: list[Period],
    changes: list[Change],
    since: float,
    until: float,
    name_of: Callable[[str, str], str],
) -> str:
    """The SVG for [since, until]; `name_of(holder, flag)` names a holder for people."""
    flags = sorted({p.flag for p in periods})
    rows = {flag: i for i, flag in enumerate(flags)}
    height = AXIS_H + ROW_H * max(len(flags), 1) + 30
    span = until - since
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-label="mitigation timeline" data-timeline="{int(span)}">'
    ]
    step = _TICKS.get(int(span), max(span / 6, 1))
    tick = (since // step + 1) * step
    fmt = "%a %d" if span > 86400 else "%H:%M"
    while tick < until:
        x = _x(tick, since, until)
        label = datetime.fromtimestamp(tick, UTC).strftime(fmt)
        out.append(f'<line x1="{x:.1f}" y1="{AXIS_H - 4}" x2="{x:.1f}" y2="{height - 30}" stroke="#e2e5ea"/>')
        out.append(_text(x, AXIS_H - 8, label, extra=' text-anchor="middle"'))
        tick += step
    if not flags:
        out.append(_text(LABEL_W, AXIS_H + 17, "No flag was held in this period.", size=13))
    for flag, i in rows.items():
        y = AXIS_H + i * ROW_H
        out.append(_text(4, y + BAR_H - 2, flag, size=12, fill=INK, extra=' font-family="monospace"'))
    for p in periods:
        y = AXIS_H + rows[p.flag] * ROW_H
        x1, x2 = _x(p.start, since, until), _x(p.end if p.end is not None else until, since, until)
        until_text = _when(p.end) if p.end is not None else "now"
        shown = p.value if p.value is not None else "(absent)"
        tip = f"{p.flag} = {shown} · {name_of(p.holder, p.flag)} · {_when(p.start)} → {until_text}"
        out.append(
            f'<rect x="{x1:.1f}" y="{y}" width="{max(x2 - x1, 2):.1f}" height="{BAR_H}" rx="3" '
            f'fill="{colour(p.value)}" data-period="{escape(p.flag)}" data-value="{escape(p.value or "")}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if p.holder.startswith("alert:") and p.start > since:
            out.append(
                _mark(x1, y, "#b42318", f"{name_of(p.holder, p.flag)} fired · {_when(p.start)}", "firing")
            )
    for c in changes:
        if c.reason.startswith("released by alert:") and c.flag in rows:
            y = AXIS_H + rows[c.flag] * ROW_H
            holder = c.reason[len("released by ") :]
            out.append(
                _mark(
                    _x(c.at, since, until),
                    y,
                    "#1f7a4d",
                    f"{name_of(holder, c.flag)} resolved · {_when(c.at)}",
                    "resolved",
                )
            )
    legend_y = height - 12
    x = float(LABEL_W)
    for value in sorted({p.value or "" for p in periods})[:12]:
        out.append(f'<rect x="{x:.0f}" y="{legend_y - 9}" width="10" height="10" fill="{colour(value)}"/>')
        out.append(_text(x + 14, legend_y, value or "(absent)", fill=INK))
        x += 24 + 7 * len(value or "(absent)")
    out.append("</svg>")
    return "".join(out)


def _mark(x: float, y: int, fill: str, tip: str, kind: str) -> str:
    top = y - 3
    return (
        f'<path d="M{x - 4:.1f},{top} L{x + 4:.1f},{top} L{x:.1f},{top + 6} Z" '
        f'fill="{fill}" data-mark="{kind}">'
        f"<title>{escape(tip)}</title></path>"
    )
