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


async def test_stop_lets_a_running_job_finish_and_record(aredis: Any, ns: str) -> None:
    """A job still running at shutdown would fail once the connections close (and APScheduler
    would log it); stop() waits for it."""
    import asyncio

    from app.engine.scheduler import JobDef, LeaderScheduler

    release = asyncio.Event()

    async def slow() -> dict[str, int]:
        await release.wait()
        return {"done": 1}

    scheduler = LeaderScheduler(aredis, ns, replica="r1", lock_ttl_s=30)
    scheduler.add(JobDef("slow", None, slow, "waits"))
    await scheduler.start()
    running = asyncio.create_task(scheduler.run("slow", manual=True))
    await asyncio.sleep(0)  # the job starts
    stopping = asyncio.create_task(scheduler.stop())
    done, _ = await asyncio.wait([stopping], timeout=0.2)
    assert not done  # still waiting for the job
    release.set()
    await stopping
    assert running.done() and (await running) is not None
    assert await aredis.hget(f"{ns}job-successes", "slow") is not None


async def test_stop_waits_for_a_scheduled_run_still_checking_its_leadership(aredis: Any, ns: str) -> None:
    """A scheduled run counts as running from its ownership check on: stop() began while
    the check was in flight used to close the connections under the run."""
    import asyncio

    from app.engine.scheduler import JobDef, LeaderScheduler

    checking, answer = asyncio.Event(), asyncio.Event()
    ran: list[int] = []

    async def job() -> None:
        ran.append(1)

    scheduler = LeaderScheduler(aredis, ns, replica="r1", lock_ttl_s=30)
    scheduler.add(JobDef("job", None, job, "a job"))

    async def slow_owns() -> bool:
        checking.set()
        await answer.wait()
        return True

    scheduler.leading = True
    scheduler._owns = slow_owns  # type: ignore[method-assign]
    run = asyncio.create_task(scheduler.run("job"))
    await checking.wait()
    stopping = asyncio.create_task(scheduler.stop())
    done, _ = await asyncio.wait([stopping], timeout=0.2)
    assert not done  # waits for the run in its check
    answer.set()
    await stopping
    assert (await run) is not None and ran == [1]
    assert await scheduler.run("job") is None  # stopped: no new scheduled runs


async def test_a_run_whose_record_cannot_be_written_still_returns(ns: str) -> None:
    from redis.asyncio import Redis

    from app.engine.scheduler import JobDef, LeaderScheduler

    async def job() -> dict[str, int]:
        return {"n": 1}

    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    scheduler = LeaderScheduler(unreachable, ns, replica="r1", lock_ttl_s=30)
    scheduler.add(JobDef("job", None, job, "a job"))
    run = await scheduler.run("job", manual=True)
    assert run is not None and run.ok and run.result == {"n": 1}
    await unreachable.aclose()


async def test_stop_does_not_hang_on_an_election_loop_that_ignores_cancellation(
    aredis: Any, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from app.engine import scheduler as module

    monkeypatch.setattr(module, "STOP_GRACE", 0.2)
    scheduler = module.LeaderScheduler(aredis, ns, replica="r1", lock_ttl_s=30)

    swallowed: list[int] = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise  # the test's own clean-up
                swallowed.append(1)  # like a Redis call that swallows the cancellation

    scheduler._task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(scheduler.stop(), timeout=5)  # returns after STOP_GRACE
    assert swallowed and not scheduler._task.done()
    scheduler._task.cancel()
    scheduler._task = None
