"""The expected period of a job, which `autonomic_job_interval_seconds` exports for the
AutonomicJobNotSucceeding rule (last success older than 3 periods)."""

from __future__ import annotations

from typing import Any

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


async def test_jobs_run_only_on_the_leader_unless_run_by_hand(aredis: Any, ns: str) -> None:
    from app.engine.scheduler import JobDef, LeaderScheduler

    runs: list[int] = []

    async def job() -> dict[str, int]:
        runs.append(1)
        return {"n": len(runs)}

    scheduler = LeaderScheduler(aredis, ns, replica="r1", lock_ttl_s=30)
    scheduler.add(JobDef("job", parse_trigger("interval:1h"), job, "a job"))
    assert await scheduler.run("job") is None and runs == []  # not leading
    run = await scheduler.run("job", manual=True)
    assert run is not None and run.ok and run.result == {"n": 1} and run.runner == "r1"
    await scheduler.start()  # status reads the next run from the started scheduler
    try:
        (status,) = await scheduler.status()
    finally:
        await scheduler.stop()
    assert status["schedule"] == "every 1h" and status["last_run"]["result"] == {"n": 1}
    assert await aredis.hget(f"{ns}job-successes", "job") is not None


async def test_a_failing_job_is_recorded_not_raised(aredis: Any, ns: str) -> None:
    from app.engine.scheduler import JobDef, LeaderScheduler

    async def job() -> None:
        raise RuntimeError("disk full")

    scheduler = LeaderScheduler(aredis, ns, replica="r1", lock_ttl_s=30)
    scheduler.add(JobDef("bad", None, job, "fails"))
    run = await scheduler.run("bad", manual=True)
    assert run is not None and not run.ok and run.error == "RuntimeError: disk full"
    assert await aredis.hget(f"{ns}job-successes", "bad") is None
    assert await aredis.llen(f"{ns}job:bad:runs") == 1
    assert not scheduler.running("bad")
