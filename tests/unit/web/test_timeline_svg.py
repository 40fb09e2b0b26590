"""The timeline SVG: bars placed by time, coloured by value, text escaped, marks for alerts."""

from __future__ import annotations

import re

from app.actions.flag_history import Change, Period
from app.web import timeline_svg


def test_bars_marks_and_escaping() -> None:
    periods = [
        Period("cache.mode", "<b>x</b>", "alert:abc", 1800.0, 2700.0),
        Period("llm.model_tier", "economy", "operator:dana", 0.0, None),
    ]
    changes = [Change("cache.mode", None, "", "released by alert:abc", 2700.0)]
    svg = timeline_svg.render(periods, changes, 0.0, 3600.0, lambda h, f: f"name of {h}")
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="16"', svg)]
    assert len(widths) == 2 and abs(widths[1] / widths[0] - 4) < 0.01  # a whole hour vs a quarter
    assert svg.count('data-mark="firing"') == 1  # the one that started inside the window
    assert svg.count('data-mark="resolved"') == 1
    assert "name of operator:dana" in svg and "→ now" in svg
    assert timeline_svg.colour("economy") == timeline_svg.colour("economy")


def test_an_empty_window_says_so() -> None:
    assert "No flag was held" in timeline_svg.render([], [], 0.0, 3600.0, lambda h, f: h)
