"""The leader-elected scheduler and its jobs, on real Redis and the machine's PostgreSQL."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from app.actions.flags import FlagStore
from app.jobs.lifecycle import IndexRetention, RetentionError, index_date, prune_flag_metrics, trim_streams
from app.keys import Keys
from tests.integration.helpers import OPERATOR, executions
from tests.support.fakes import ElasticFake
from tests.support.procs import Service, wait_for

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
COLUMNS = ["t", "r", "u", "m", "p", "i", "o", "c", "tier"]
FAST_JOBS = {
    "AUTONOMIC_LEADER_TTL": "1.5s",
    "AUTONOMIC_JOB_COST_EXPORTER": "off",
    "AUTONOMIC_JOB_LIFECYCLE": "off",
}


def runs(sync_redis: redis.Redis, ns: str, job: str) -> list[dict[str, object]]:
    return [json.loads(r) for r in reversed(sync_redis.lrange(f"{ns}job:{job}:runs", 0, -1))]  # type: ignore[union-attr]


def jobs(svc: Service) -> dict[str, object]:
    response = httpx.get(f"{svc.url}/api/jobs", headers=OPERATOR)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def test_only_the_leader_runs_and_another_takes_over(
    start_service: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    a = start_service(name="a", AUTONOMIC_JOB_LEASE_SWEEPER="interval:200ms", **FAST_JOBS)
    b = start_service(name="b", AUTONOMIC_JOB_LEASE_SWEEPER="interval:200ms", **FAST_JOBS)
    wait_for(lambda: len(runs(sync_redis, ns, "lease_sweeper")) >= 10, what="ten sweeps")
    status = jobs(b)
    leader = status["leader"]
    assert leader in (jobs(a)["this_replica"], status["this_replica"])
    assert {r["runner"] for r in runs(sync_redis, ns, "lease_sweeper")} == {leader}  # never both
    by_job = {j["id"]: j for j in status["jobs"]}  # type: ignore[union-attr]
    assert by_job["lease_sweeper"]["last_run"]["ok"] is True
    assert by_job["cost_exporter"]["schedule"] == "off"

    victim, survivor = (a, b) if jobs(a)["this_replica"] == leader else (b, a)
    victim.kill()
    survivor_name = jobs(survivor)["this_replica"]
    wait_for(lambda: jobs(survivor)["leader"] == survivor_name, timeout=15, what="takeover")
    wait_for(
        lambda: runs(sync_redis, ns, "lease_sweeper")[-1]["runner"] == survivor_name, what="survivor runs"
    )
    before = len(runs(sync_redis, ns, "lease_sweeper"))
    wait_for(lambda: len(runs(sync_redis, ns, "lease_sweeper")) >= before + 3, what="runs continue")
    assert {r["runner"] for r in runs(sync_redis, ns, "lease_sweeper")} == {leader, survivor_name}


def metric_values(text: str, name: str) -> dict[str, float]:
    """{user_id (or the only label's value): value}, summed over other labels (a cost's model)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples if family.name == name else []:
            key = sample.labels.get("user_id", next(iter(sample.labels.values()), ""))
            out[key] = out.get(key, 0.0) + sample.value
    return out


def seed_costs(sync_redis: redis.Redis, prefix: str, users: dict[str, float], day: str | None = None) -> None:
    day = day or datetime.now(UTC).strftime("%Y-%m-%d")
    pipe = sync_redis.pipeline(transaction=False)
    for user, cost in users.items():
        pipe.set(f"{prefix}cost:daily:{day}:user:{user}", cost)
        pipe.set(f"{prefix}tokens:daily:{day}:user:{user}", int(cost * 1000))
    pipe.execute()


def test_cost_gauges_equal_the_seeded_sums_on_every_replica(
    start_service: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    prefix = f"{ns}app:"
    today = datetime.now(UTC)
    yesterday = (today - timedelta(days=1)).strftime("%Y-%m-%d")
    seed_costs(sync_redis, prefix, {"u1": 1.5, "u2": 2.25, "u3": 0.25})
    seed_costs(sync_redis, prefix, {"u1": 100.0}, day=yesterday)  # not today's: not exported
    sync_redis.set(f"{prefix}cost:daily:{today:%Y-%m-%d}:model:gpt-4o", 3.0)
    sync_redis.set(f"{prefix}cost:daily:{today:%Y-%m-%d}:model:gpt-4o-mini", 1.0)
    sync_redis.set(f"{prefix}cost:hourly:{today:%Y-%m-%d-%H}", 0.75)
    env = {**FAST_JOBS, "AUTONOMIC_COST_KEY_PREFIX": prefix, "AUTONOMIC_JOB_LEASE_SWEEPER": "off"}
    a = start_service(name="a", **env)
    response = httpx.post(f"{a.url}/api/jobs/cost_exporter/run", headers=OPERATOR)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["daily_total_usd"] == 4.0
    b = start_service(name="b", **env)  # serves the leader's snapshot without computing it
    for svc in (a, b):
        text = httpx.get(f"{svc.url}/metrics").text
        assert metric_values(text, "ai_daily_cost_usd") == {"u1": 1.5, "u2": 2.25, "u3": 0.25, "_other": 0.0}
        assert metric_values(text, "ai_daily_cost_by_model_usd") == {"gpt-4o": 3.0, "gpt-4o-mini": 1.0}
        assert metric_values(text, "ai_hourly_cost_usd") == {"": 0.75}
        assert metric_values(text, "ai_daily_tokens")["u2"] == 2250
    assert httpx.post(f"{a.url}/api/jobs/nope/run", headers=OPERATOR).status_code == 404
    viewer_denied = httpx.post(
        f"{a.url}/api/jobs/cost_exporter/run",
        headers={"Authorization": "Bearer test-webhook-token-0123456789"},
    )
    assert viewer_denied.status_code == 403


def test_hashed_user_labels_hide_ids_and_can_be_looked_up(
    start_service: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    prefix = f"{ns}app:"
    seed_costs(sync_redis, prefix, {"alice@example.com": 1.5, "Bob.Smith": 2.0})
    env = {
        **FAST_JOBS,
        "AUTONOMIC_COST_KEY_PREFIX": prefix,
        "AUTONOMIC_JOB_LEASE_SWEEPER": "off",
        "AUTONOMIC_COST_USER_LABEL": "hash",
    }
    a = start_service(name="a", **env)
    assert httpx.post(f"{a.url}/api/jobs/cost_exporter/run", headers=OPERATOR).status_code == 200
    text = httpx.get(f"{a.url}/metrics").text
    assert "alice@example.com" not in text and "Bob.Smith" not in text
    exported = metric_values(text, "ai_daily_cost_usd")
    lookup = httpx.get(
        f"{a.url}/api/cost/user-label", params={"user_id": "alice@example.com"}, headers=OPERATOR
    )
    label = lookup.json()["label"]
    assert re.fullmatch(r"u-[0-9a-f]{16}", label) and exported[label] == 1.5
    # Stable: another replica and a restart compute the same label (the key lives in Redis).
    a.stop()
    b = start_service(name="b", **env)
    again = httpx.get(
        f"{b.url}/api/cost/user-label", params={"user_id": "alice@example.com"}, headers=OPERATOR
    )
    assert again.json()["label"] == label
    assert httpx.post(f"{b.url}/api/jobs/cost_exporter/run", headers=OPERATOR).status_code == 200
    assert metric_values(httpx.get(f"{b.url}/metrics").text, "ai_daily_cost_usd")[label] == 1.5


def test_user_cardinality_is_capped_with_10000_users(
    start_service: Callable[..., Service], sync_redis: redis.Redis, ns: str
) -> None:
    prefix = f"{ns}app:"
    users = {f"user-{i:05d}": round(0.01 * (i % 997) + 0.001 * i, 6) for i in range(10_000)}
    seed_costs(sync_redis, prefix, users)
    svc = start_service(
        **FAST_JOBS,
        AUTONOMIC_COST_KEY_PREFIX=prefix,
        AUTONOMIC_COST_TOP_USERS="25",
        AUTONOMIC_JOB_LEASE_SWEEPER="off",
    )
    assert (
        httpx.post(f"{svc.url}/api/jobs/cost_exporter/run", headers=OPERATOR, timeout=60).status_code == 200
    )
    exported = metric_values(httpx.get(f"{svc.url}/metrics").text, "ai_daily_cost_usd")
    assert len(exported) == 26
    top = sorted(users.values(), reverse=True)[:25]
    assert sorted((v for k, v in exported.items() if k != "_other"), reverse=True) == pytest.approx(top)
    assert exported["_other"] == pytest.approx(sum(users.values()) - sum(top))
    assert len(metric_values(httpx.get(f"{svc.url}/metrics").text, "ai_daily_tokens")) == 26


@pytest.fixture
def pg_table() -> Iterator[str]:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    table = f"cost_tracking_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    rows = [
        (now, "r1", "alice", "gpt-4o", "openai", 100, 50, 0.5, "pro"),
        (now, "r2", "alice", "gpt-4o-mini", "openai", 10, 5, 0.25, "pro"),
        (now, "r3", "bob", "gpt-4o", "openai", 1000, 500, 2.0, "free"),
        (now - timedelta(days=2), "r4", "bob", "gpt-4o", "openai", 1, 1, 50.0, "free"),
    ]

    async def run(statements: list[tuple[str, dict[str, object]]]) -> None:
        engine = create_async_engine(PG_URL)
        async with engine.begin() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), params)
        await engine.dispose()

    create = (
        f"CREATE TABLE {table} (timestamp timestamptz, request_id text, user_id text, model text,"
        " provider text, input_tokens int, output_tokens int, cost_usd numeric, user_tier text)"
    )
    insert = f"INSERT INTO {table} VALUES (:t, :r, :u, :m, :p, :i, :o, :c, :tier)"
    asyncio.run(run([(create, {})] + [(insert, dict(zip(COLUMNS, row, strict=True))) for row in rows]))
    yield table
    asyncio.run(run([(f"DROP TABLE {table}", {})]))


def test_postgresql_source(start_service: Callable[..., Service], pg_table: str) -> None:
    svc = start_service(
        **FAST_JOBS,
        AUTONOMIC_COST_SOURCE=PG_URL,
        AUTONOMIC_COST_TABLE=pg_table,
        # The older `cost_tracking` layout, mapped onto the exporter's columns.
        AUTONOMIC_COST_COLUMNS="created_at=timestamp,input_tokens=input_tokens,output_tokens=output_tokens,"
        "latency_ms=,cache_hit=",
        AUTONOMIC_JOB_LEASE_SWEEPER="off",
    )
    response = httpx.post(f"{svc.url}/api/jobs/cost_exporter/run", headers=OPERATOR)
    assert response.json()["ok"] is True, response.text
    text = httpx.get(f"{svc.url}/metrics").text
    assert metric_values(text, "ai_daily_cost_usd") == {"alice": 0.75, "bob": 2.0, "_other": 0.0}
    # Without a cache_hit column requests are counted as cache_hit="unknown" (0 across an hour boundary).
    assert metric_values(text, "ai_hourly_requests") in ({"unknown": 3.0}, {})  # by cache_hit
    assert metric_values(text, "ai_daily_cost_by_model_usd") == {"gpt-4o": 2.5, "gpt-4o-mini": 0.25}
    assert metric_values(text, "ai_daily_tokens") == {"alice": 165, "bob": 1500, "_other": 0}
    assert metric_values(text, "ai_hourly_cost_usd")[""] in (2.75, 0.0)  # 0 only across an hour boundary


def test_a_job_failing_from_its_first_run_ages_from_when_it_was_scheduled(
    start_service: Callable[..., Service],
) -> None:
    svc = start_service(
        **{**FAST_JOBS, "AUTONOMIC_JOB_COST_EXPORTER": "interval:200ms"},
        AUTONOMIC_COST_SOURCE="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",  # refused
        AUTONOMIC_JOB_LEASE_SWEEPER="off",
    )

    def figures() -> tuple[float, float]:
        text = httpx.get(f"{svc.url}/metrics").text
        since = metric_values(text, "autonomic_job_last_success_timestamp_seconds").get("cost_exporter", 0.0)
        failed = sum(
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "autonomic_job_runs_total"
            and s.labels == {"job_id": "cost_exporter", "result": "failed"}
        )
        return since, failed

    wait_for(lambda: figures()[1] >= 3, what="three failed runs")
    since, _ = figures()
    assert 0 < since < time.time()
    wait_for(lambda: figures()[1] >= 6, what="three more failed runs")
    assert figures()[0] == since  # the starting point stays; time() - it grows until the rule fires
    assert "lease_sweeper" not in metric_values(
        httpx.get(f"{svc.url}/metrics").text, "autonomic_job_last_success_timestamp_seconds"
    )


def test_sweeper_restores_an_expired_lease_and_records_it(
    start_service: Callable[..., Service], sync_redis: redis.Redis, ns: str, flag_prefix: str
) -> None:
    import asyncio

    sync_redis.set(flag_prefix + "cache.mode", "normal")
    svc = start_service(**FAST_JOBS, AUTONOMIC_JOB_LEASE_SWEEPER="interval:200ms")

    async def lease() -> None:
        client = aioredis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
        store = FlagStore(client, prefix=flag_prefix, namespace=ns, grace_s=60)
        await store.set("cache.mode", "aggressive", ttl_s=0.5, holder="alert:short")
        await client.aclose()

    asyncio.run(lease())
    assert sync_redis.get(flag_prefix + "cache.mode") == "aggressive"
    # The value key's own TTL is lease + 60s grace: only the sweeper explains a prompt restore.
    wait_for(lambda: sync_redis.get(flag_prefix + "cache.mode") == "normal", what="baseline restored")
    (record,) = wait_for(lambda: executions(svc.url, playbook="autonomic.sweeper"), what="sweep recorded")
    assert record["actions"][0]["target"] == "cache.mode"
    assert record["actions"][0]["result"] == {"effective": "normal"}


# -- lifecycle ----------------------------------------------------------------------------------


async def test_streams_are_trimmed_by_age(aredis: aioredis.Redis, ns: str) -> None:
    stream = f"{ns}executions"
    old = int((time.time() - 3600) * 1000)
    for i in range(5):
        await aredis.xadd(stream, {"n": i}, id=f"{old + i}-0")
    await aredis.xadd(stream, {"n": "new"})
    assert await trim_streams(aredis, {stream: 600}) == {stream: 5}
    assert await aredis.xlen(stream) == 1


async def test_idle_flags_change_counts_are_forgotten(
    aredis: aioredis.Redis, ns: str, flag_prefix: str
) -> None:
    keys = Keys(ns)
    store = FlagStore(aredis, prefix=flag_prefix, namespace=ns, grace_s=60)
    week_ago = int((time.time() - 7 * 86400) * 1000)
    await store.set("ratelimit.user.u1", "0.1", ttl_s=8 * 86400, holder="alert:a", now_ms=week_ago)
    await store.release("ratelimit.user.u1", "alert:a", now_ms=week_ago + 1000)  # idle for a week
    await store.set("llm.model_tier", "economy", ttl_s=30 * 86400, holder="alert:b", now_ms=week_ago)  # held
    await store.set("cache.mode", "aggressive", ttl_s=60, holder="alert:c")  # changed just now
    before = await aredis.hgetall(keys.flag_changes)
    assert before["ratelimit.user.u1|set"] == "1" and before["ratelimit.user.u1|released"] == "1"
    assert await prune_flag_metrics(aredis, keys, idle_s=86400) == 1
    after = await aredis.hgetall(keys.flag_changes)
    assert {f.partition("|")[0] for f in after} == {"llm.model_tier", "cache.mode"}
    assert set(await aredis.hkeys(keys.flag_changed_at)) == {"llm.model_tier", "cache.mode"}
    assert await prune_flag_metrics(aredis, keys, idle_s=86400) == 0


def test_index_dates() -> None:
    assert index_date("logs-20260101", ["logs"]) == date(2026, 1, 1)
    assert index_date("logs-2026.01.02", ["logs"]) == date(2026, 1, 2)
    assert index_date("logs-2026.13.02", ["logs"]) is None
    assert index_date("other-20260101", ["logs"]) is None
    assert index_date("logs-current", ["logs"]) is None


@pytest.fixture
def elastic() -> Iterator[ElasticFake]:
    fake = ElasticFake(
        ["logs-20260101", "logs-2026.01.02", "logs-20261120", "audit-20260101", "other-20200101"]
    )
    yield fake
    fake.stop()


def retention(fake: ElasticFake, **kw: object) -> IndexRetention:
    return IndexRetention(
        httpx.AsyncClient(base_url=fake.url),
        prefixes=["logs", "audit"],
        days=30,
        repository=fake.repository,
        **kw,
    )  # type: ignore[arg-type]


TODAY = date(2026, 11, 26)


async def test_retention_snapshots_verifies_then_deletes(elastic: ElasticFake) -> None:
    result = await retention(elastic).run(TODAY)
    assert result["expired"] == ["audit-20260101", "logs-2026.01.02", "logs-20260101"]
    assert sorted(elastic.deleted) == result["expired"]
    (snapshot,) = elastic.snapshots.values()
    assert sorted(snapshot["indices"]) == result["expired"]
    assert elastic.indices == {"logs-20261120", "other-20200101"}
    methods = [r["method"] for r in elastic.requests]
    assert methods.index("PUT") < methods.index("GET", methods.index("PUT")) < methods.index("DELETE")


@pytest.mark.parametrize("state", ["FAILED", "PARTIAL"])
async def test_failed_snapshot_deletes_nothing(elastic: ElasticFake, state: str) -> None:
    elastic.snapshot_state = state
    with pytest.raises(RetentionError, match="nothing deleted"):
        await retention(elastic).run(TODAY)
    assert elastic.deleted == []
    assert not [r for r in elastic.requests if r["method"] == "DELETE"]


async def test_snapshot_error_deletes_nothing(elastic: ElasticFake) -> None:
    elastic.snapshot_http_error = 500
    with pytest.raises(RetentionError, match="HTTP 500"):
        await retention(elastic).run(TODAY)
    assert elastic.deleted == []
    assert [r["method"] for r in elastic.requests if r["method"] != "GET"] == ["PUT"]


async def test_dry_run_changes_nothing(elastic: ElasticFake) -> None:
    result = await retention(elastic, dry_run=True).run(TODAY)
    assert result["dry_run"] is True and len(result["expired"]) == 3
    assert {r["method"] for r in elastic.requests} == {"GET"}
