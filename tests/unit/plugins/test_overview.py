"""The playbook view: a wrapped first paragraph is joined whole, never cut at its first line."""

from __future__ import annotations

from app.plugins.overview import summary


def test_summary_joins_the_whole_first_paragraph() -> None:
    doc = "p95 latency is high: cache aggressively; page when\ncritical, otherwise later.\n\nDetails here."
    assert summary(doc) == "p95 latency is high: cache aggressively; page when critical, otherwise later."
    assert summary("") == ""
