"""The expected period of a job, which `autonomic_job_interval_seconds` exports for the
AutonomicJobNotSucceeding rule (last success older than 3 periods)."""

from __future__ import annotations

import pytest

from app.engine.scheduler import parse_trigger, period_s


@pytest.mark.parametrize(
    ("spec", "seconds"),
    [("interval:30s", 30), ("interval:200ms", 0.2), ("cron:17 * * * *", 3600), ("cron:*/5 * * * *", 300)],
)
def test_period_of_a_schedule(spec: str, seconds: float) -> None:
    trigger = parse_trigger(spec)
    assert trigger is not None
    assert period_s(trigger) == pytest.approx(seconds)
