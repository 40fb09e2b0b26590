"""Benchmark harness: `bench/run [--quick]` prints a table and writes bench/results.json.

Everything runs in one go on this machine against the machine's Redis, each server with one
uvicorn worker, load from separate processes (wrk, or the async generator in latency.py):

- limit:     a bare Litestar endpoint answering 202 (bench/bare_app.py)
- flask:     a synchronous Flask receiver writing the flags inline (bench/flask_app.py, gunicorn, 1 worker)
- ingest-1:  Autonomic's webhook, 1-alert payloads (webhooks/s; target ≥ 50 % of the limit and ≥ 3,000/s)
- ingest-100: 100-alert payloads (alerts/s; target ≥ 40,000/s)
- latency:   webhook sent → flag changed in Redis (its change message's `at`, 1 ms resolution)
             at 200 alerts/s (p50 < 5 ms, p99 < 25 ms)
- drain:     100,000 alerts through a flag-setting playbook, the median of 5 runs (`--drain-runs`)
             (alerts/s per replica: target ≥ 4,000; peak RSS < 250 MB)
- scaling:   the drain with 1 versus 2 replicas on one Redis
- priority:  one critical alert every 100 ms while 100,000 queued warnings drain: its webhook →
             flag p50/p99 (target p99 < 100 ms; bench/priority.py)
- flood:     wrk saturates one replica's intake with 1-alert BenchFlag webhooks (32 connections,
             one thread: a second would take a core from the service, not add load it can take)
             while a trickle of 200 critical alerts/s (BENCH_FLOOD_SEVERITY) is posted: its webhook →
             flag p50/p99 (target p99 < 50 ms), and executions/s during the flood (against the drain)
- flood-backlog: the same load with 60,000 alerts (--quick: 20,000) queued before the replica
             starts, so execution always has more work than the flood brings and stays saturated
             (the intake gate then gives intake turns): executions/s during it (against the drain:
             this run's, else the one in bench/results.json), webhooks/s accepted
- ofrep:     OFREP single and bulk evaluations/s against bare Litestar endpoints returning the same
             JSON (bench/ofrep_bare.py; target ≥ 60 %), and flag change → visible to the PyPI OFREP
             provider (bench/ofrep_propagation.py)

The replicas of drain, priority and flood run AUTONOMIC_WORKERS=128 (BENCH_WORKERS): with more
executions in flight a replica drains faster (docs/performance.md, "Third round").

Results are merged into bench/results.json: scenarios not run keep their last figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "bench-token-" + uuid.uuid4().hex  # 44 characters: tokens need at least 24
WORKERS = os.environ.get("BENCH_WORKERS", "128")  # AUTONOMIC_WORKERS of the measured replicas


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class Proc:
    """A server process with its log; stopped by `stop()`."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, name: str = "proc") -> None:
        self.log = Path(f"/tmp/bench-{name}-{os.getpid()}.log")
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def autonomic(port: int, ns: str, name: str, **env: str) -> Proc:
    settings = {
        "AUTONOMIC_REDIS_URL": REDIS_URL,
        "AUTONOMIC_REDIS_NAMESPACE": ns,
        "AUTONOMIC_FLAG_PREFIX": f"{ns}flags:",
        "AUTONOMIC_WEBHOOK_TOKEN": TOKEN,
        "AUTONOMIC_OPERATOR_TOKEN": TOKEN + "-op",
        "AUTONOMIC_PORT": str(port),
        "AUTONOMIC_HOST": "127.0.0.1",
        "AUTONOMIC_PLAYBOOK_DIRS": str(BENCH / "playbooks"),
        "AUTONOMIC_BUILTIN_PLAYBOOKS": "false",
        "AUTONOMIC_PLAYBOOK_ENTRY_POINTS": "false",
        "AUTONOMIC_LOG_LEVEL": "warning",
        "AUTONOMIC_DEDUP_TTL": "10m",
        "AUTONOMIC_QUEUE_MAX_LEN": "2000000",
        "AUTONOMIC_EXECUTIONS_MAX_LEN": "2000000",
        "AUTONOMIC_JOB_COST_EXPORTER": "off",
        "AUTONOMIC_JOB_LEASE_SWEEPER": "off",
        "AUTONOMIC_JOB_LIFECYCLE": "off",
        **env,
    }
    proc = Proc([PY, "-m", "app", "serve"], settings, name)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def wrk(
    url: str,
    seconds: int,
    alerts: int,
    alertname: str = "BenchIngest",
    connections: int = 32,
    script: str = "wrk_post.lua",
    **extra: str,
) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_ALERTS": str(alerts),
        "BENCH_ALERTNAME": alertname,
        "BENCH_TOKEN": TOKEN,
        **extra,
    }
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(BENCH / script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return wrk_result(out, alerts)


def wrk_result(out: str, alerts: int) -> dict[str, float]:
    """The figures of one wrk run from its output (bench/wrk_post.lua's BENCH_RESULT line)."""
    match = re.search(r"BENCH_RESULT (.*)", out)
    assert match, out
    fields = {k: int(v) for k, v in (kv.split("=") for kv in match.group(1).split())}
    rate = fields["requests"] / (fields["duration_us"] / 1e6)
    return {
        "requests_per_s": round(rate, 1),
        "alerts_per_s": round(rate * alerts, 1),
        "non_2xx": fields["errors_status"],
        "p50_ms": fields["p50_us"] / 1000,
        "p99_ms": fields["p99_us"] / 1000,
    }


def cleanup(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=10_000))
    for i in range(0, len(keys), 10_000):
        client.delete(*keys[i : i + 10_000])


def queue_alerts(ns: str, alerts: int) -> None:
    """Queue `alerts` distinct BenchFlag alerts in namespace `ns` through a replica with one
    worker (stopped once they are queued; it runs a few of them meanwhile)."""
    port = free_port()
    intake = autonomic(port, ns, "queue", AUTONOMIC_WORKERS="1", AUTONOMIC_LEADER_TTL="60s")
    body_alerts = 1000
    with httpx.Client(timeout=60) as http:
        for batch in range(alerts // body_alerts):
            payload = {
                "version": "4",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "BenchFlag", "n": str(batch * body_alerts + i)},
                        "fingerprint": f"{batch:06d}{i:06d}",
                        "startsAt": "2026-11-26T10:00:00Z",
                    }
                    for i in range(body_alerts)
                ],
            }
            response = http.post(
                f"http://127.0.0.1:{port}/webhooks/alertmanager",
                json=payload,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            response.raise_for_status()
    intake.stop()


def drain(replicas: int, alerts: int, quick: bool) -> dict[str, float]:
    """Queue `alerts` alerts for the flag playbook first, then start the replicas and time the drain."""
    ns = f"bench-{uuid.uuid4().hex[:6]}:"
    queue_alerts(ns, alerts)
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    workers = [autonomic(free_port(), ns, f"drain-{i}", AUTONOMIC_WORKERS=WORKERS) for i in range(replicas)]
    # Time from the moment every replica answers: process start-up is not drain throughput.
    done_before = client.xlen(f"{ns}executions")
    started = time.monotonic()
    while True:
        group = client.xinfo_groups(f"{ns}alerts")[0]
        if not group["lag"] and not group["pending"]:
            break
        if time.monotonic() - started > (120 if quick else 600):
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    finished = client.xlen(f"{ns}executions")
    rss = max(w.peak_rss_mb() for w in workers)
    for w in workers:
        w.stop()
    cleanup(ns)
    processed = finished - done_before
    return {
        "alerts": processed,
        "seconds": round(elapsed, 2),
        "alerts_per_s": round(processed / elapsed, 1),
        "alerts_per_s_per_replica": round(processed / elapsed / replicas, 1),
        "peak_rss_mb": round(rss, 1),
        "workers": int(WORKERS),
    }


def priority(warnings: int, quick: bool) -> dict[str, Any]:
    """A critical alert every 100 ms while a storm of warnings drains (bench/priority.py)."""
    ns = f"bench-{uuid.uuid4().hex[:6]}:"
    port = free_port()
    svc = autonomic(port, ns, "priority", AUTONOMIC_WORKERS=WORKERS)
    args = ["--url", f"http://127.0.0.1:{port}", "--token", TOKEN, "--redis", REDIS_URL, "--ns", ns]
    args += ["--prefix", f"{ns}flags:", "--warnings", str(warnings), "--samples", "50" if quick else "100"]
    out = subprocess.run(
        [PY, str(BENCH / "priority.py"), *args], capture_output=True, text=True, check=True
    ).stdout
    svc.stop()
    cleanup(ns)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["workers"] = int(WORKERS)
    return result


def lag(client: redis.Redis, ns: str) -> int:
    """Entries not yet delivered to a worker, both lanes together."""
    total = 0
    for stream in (f"{ns}alerts", f"{ns}alerts:high"):
        groups: Any = client.xinfo_groups(stream) if client.exists(stream) else []
        total += sum(int(g.get("lag") or 0) for g in groups)
    return total


def flood(seconds: int, severity: str, backlog: int = 0) -> dict[str, Any]:
    """A trickle of 200 alerts/s (webhook → flag) while wrk saturates the same replica's intake
    with 1-alert BenchFlag webhooks; executions/s during the flood, backlog at its end. With
    `backlog`, that many alerts are queued before the replica starts, so execution always has
    work beyond what the flood brings."""
    ns = f"bench-{uuid.uuid4().hex[:6]}:"
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    if backlog:
        queue_alerts(ns, backlog)
    queued_before = lag(client, ns)
    port = free_port()
    svc = autonomic(port, ns, "flood", AUTONOMIC_WORKERS=WORKERS)
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BENCH_ALERTS": "1", "BENCH_ALERTNAME": "BenchFlag", "BENCH_TOKEN": TOKEN}
    flood_s = seconds + 2
    executed_before, started = client.xlen(f"{ns}executions"), time.monotonic()
    target = base + "/webhooks/alertmanager"
    load = subprocess.Popen(
        ["wrk", "-t1", "-c32", f"-d{flood_s}s", "-s", str(BENCH / "wrk_post.lua"), target],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)  # the flood saturates intake before the trickle starts
    args = ["--url", base, "--token", TOKEN, "--redis", REDIS_URL, "--prefix", f"{ns}flags:"]
    args += ["--rate", "200", "--seconds", str(seconds), "--severity", severity]
    trickle = subprocess.Popen([PY, str(BENCH / "latency.py"), *args], stdout=subprocess.PIPE, text=True)
    out, _ = load.communicate()
    elapsed = time.monotonic() - started
    executed = client.xlen(f"{ns}executions") - executed_before
    queued = lag(client, ns)
    result: dict[str, Any] = json.loads(trickle.communicate()[0].strip().splitlines()[-1])
    svc.stop()
    cleanup(ns)
    result["severity"] = severity or "none"
    result["flood"] = wrk_result(out, 1)
    result["executed_per_s"] = round(executed / elapsed, 1)
    result["backlog_before"] = queued_before
    result["backlog_after"] = queued
    if backlog and not queued:
        print("flood-backlog: the backlog ran out during the flood; queue more", file=sys.stderr)
    result["workers"] = int(WORKERS)
    return result


def ofrep(seconds: int, quick: bool) -> dict[str, Any]:
    """OFREP evaluations/s (Autonomic vs the bare limit, single and bulk) and change → client p99."""
    import asyncio

    import redis.asyncio as aioredis

    from app.actions.flags import FlagStore

    ns = f"bench-{uuid.uuid4().hex[:6]}:"
    prefix = f"{ns}flags:"

    async def mitigate() -> None:  # what CostSpike sets, held by one alert
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        store = FlagStore(client, prefix=prefix, namespace=ns, grace_s=60)
        for name, value in (
            ("llm.model_tier", "economy"),
            ("cache.mode", "aggressive"),
            ("ratelimit.factor", "0.5"),
        ):
            await store.set(name, value, ttl_s=3600, holder="alert:bench")
        await client.aclose()

    asyncio.run(mitigate())
    port = free_port()
    svc = autonomic(port, ns, "ofrep", AUTONOMIC_FLAGS_TOKEN=TOKEN + "-flags-0123456789")
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {TOKEN}-flags-0123456789"}
    context = {"context": {"targetingKey": "user-1", "plan": "pro"}}
    single_path, bulk_path = "/ofrep/v1/evaluate/flags/llm.model_tier", "/ofrep/v1/evaluate/flags"
    single_body = httpx.post(base + single_path, json=context, headers=auth).json()
    bulk_body = httpx.post(base + bulk_path, json=context, headers=auth).json()
    assert single_body["value"] == "economy" and len(bulk_body["flags"]) == 3, (single_body, bulk_body)
    flags_token = TOKEN + "-flags-0123456789"
    result: dict[str, Any] = {}
    for name, path in (("single", single_path), ("bulk", bulk_path)):
        result[f"autonomic-{name}"] = wrk(
            base, seconds, 1, script="wrk_ofrep.lua", BENCH_PATH=path, BENCH_TOKEN=flags_token
        )
    result["propagation"] = json.loads(
        subprocess.run(
            [
                PY,
                str(BENCH / "ofrep_propagation.py"),
                "--url",
                base,
                "--token",
                flags_token,
                "--redis",
                REDIS_URL,
                "--prefix",
                prefix,
                "--namespace",
                ns,
                "--samples",
                "100" if quick else "300",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    svc.stop()
    cleanup(ns)
    port = free_port()
    bare = Proc(
        [PY, "-m", "uvicorn", "bench.ofrep_bare:app", "--port", str(port), "--log-level", "warning"],
        {"BENCH_SINGLE_BODY": json.dumps(single_body), "BENCH_BULK_BODY": json.dumps(bulk_body)},
        name="ofrep-bare",
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/")
    for name, path in (("single", single_path), ("bulk", bulk_path)):
        result[f"limit-{name}"] = wrk(base, seconds, 1, script="wrk_ofrep.lua", BENCH_PATH=path)
    bare.stop()
    for name in ("single", "bulk"):
        share = result[f"autonomic-{name}"]["requests_per_s"] / result[f"limit-{name}"]["requests_per_s"]
        result[f"{name}_share"] = round(share, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="about a minute: shorter runs, 20,000-alert drain"
    )
    parser.add_argument("--only", help="comma-separated scenarios")
    parser.add_argument(
        "--drain-runs", type=int, help="1-replica drains to take the median of (default 5; --quick: 1)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    seconds = 3 if args.quick else 10
    only = set(args.only.split(",")) if args.only else None
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "redis": redis.Redis.from_url(REDIS_URL).info("server")["redis_version"],
            "quick": args.quick,
        }
    }

    def want(name: str) -> bool:
        return only is None or name in only

    if want("limit"):
        port = free_port()
        bare = Proc(
            [PY, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--log-level", "warning"],
            name="bare",
        )
        wait_http(f"http://127.0.0.1:{port}/")
        results["limit"] = wrk(f"http://127.0.0.1:{port}/webhooks/alertmanager", seconds, 1)
        bare.stop()
    if want("flask"):
        port = free_port()
        ns = f"bench-{uuid.uuid4().hex[:6]}:"
        flask = Proc(
            [PY, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "bench.flask_app:app"],
            {"BENCH_PREFIX": ns, "BENCH_REDIS_URL": REDIS_URL},
            name="flask",
        )
        wait_http(f"http://127.0.0.1:{port}/")
        results["flask"] = wrk(f"http://127.0.0.1:{port}/webhooks/alertmanager", seconds, 1)
        flask.stop()
        cleanup(ns)
    if want("ingest-1") or want("ingest-100"):
        ns = f"bench-{uuid.uuid4().hex[:6]}:"
        port = free_port()
        svc = autonomic(port, ns, "ingest")
        url = f"http://127.0.0.1:{port}/webhooks/alertmanager"
        if want("ingest-1"):
            results["ingest-1"] = wrk(url, seconds, 1)
        if want("ingest-100"):
            results["ingest-100"] = wrk(url, seconds, 100, connections=8)
        results["ingest_peak_rss_mb"] = round(svc.peak_rss_mb(), 1)
        svc.stop()
        cleanup(ns)
    if want("latency"):
        ns = f"bench-{uuid.uuid4().hex[:6]}:"
        port = free_port()
        svc = autonomic(port, ns, "latency")
        out = subprocess.run(
            [
                PY,
                str(BENCH / "latency.py"),
                "--url",
                f"http://127.0.0.1:{port}",
                "--token",
                TOKEN,
                "--redis",
                REDIS_URL,
                "--prefix",
                f"{ns}flags:",
                "--rate",
                "200",
                "--seconds",
                str(seconds),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results["latency"] = json.loads(out.strip().splitlines()[-1])
        svc.stop()
        cleanup(ns)
    count = 20_000 if args.quick else 100_000
    if want("drain"):
        drains = []
        for run in range(args.drain_runs or (1 if args.quick else 5)):
            drains.append(drain(1, count, args.quick))
            print(f"drain-1 run {run + 1}: {drains[-1]['alerts_per_s']:.0f} alerts/s", flush=True)
        median = sorted(drains, key=lambda d: d["alerts_per_s"])[len(drains) // 2]
        results["drain-1"] = {
            **median,  # the median run's figures, every run's rate, the highest peak RSS
            "runs": [d["alerts_per_s"] for d in drains],
            "peak_rss_mb": max(d["peak_rss_mb"] for d in drains),
        }
    if want("scaling"):
        results["drain-2"] = drain(2, count, args.quick)
        if "drain-1" in results:
            results["scaling_ratio"] = round(
                results["drain-2"]["alerts_per_s"] / results["drain-1"]["alerts_per_s"], 2
            )

    if want("priority"):
        results["priority"] = priority(count, args.quick)
    severity = os.environ.get("BENCH_FLOOD_SEVERITY", "critical")
    # The share of the drain: against this run's drain, else the one bench/results.json holds.
    earlier = json.loads((BENCH / "results.json").read_text()) if (BENCH / "results.json").exists() else {}
    drained = results.get("drain-1") or earlier.get("drain-1")
    for name, backlog in (("flood", 0), ("flood-backlog", 20_000 if args.quick else 60_000)):
        if want(name):
            results[name] = flood(seconds, severity, backlog)
            if drained:
                results[name]["share_of_drain"] = round(
                    results[name]["executed_per_s"] / drained["alerts_per_s"], 2
                )
                results[name]["drain_of"] = "this run" if "drain-1" in results else "an earlier run"
    if want("ofrep"):
        results["ofrep"] = ofrep(seconds, args.quick)

    print(table(results))
    path = BENCH / "results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(results)
    path.write_text(json.dumps(merged, indent=2) + "\n")


def table(r: dict[str, Any]) -> str:
    rows = [("scenario", "rate", "p50 ms", "p99 ms", "other")]
    if "limit" in r:
        rows.append(
            (
                "bare Litestar 202 (limit)",
                f"{r['limit']['requests_per_s']:.0f} req/s",
                f"{r['limit']['p50_ms']:.2f}",
                f"{r['limit']['p99_ms']:.2f}",
                "",
            )
        )
    if "flask" in r:
        rows.append(
            (
                "Flask inline writes",
                f"{r['flask']['requests_per_s']:.0f} req/s",
                f"{r['flask']['p50_ms']:.2f}",
                f"{r['flask']['p99_ms']:.2f}",
                "",
            )
        )
    if "ingest-1" in r:
        share = (
            f"{100 * r['ingest-1']['requests_per_s'] / r['limit']['requests_per_s']:.0f}% of limit"
            if "limit" in r
            else ""
        )
        rows.append(
            (
                "ingest, 1-alert payloads",
                f"{r['ingest-1']['requests_per_s']:.0f} webhooks/s",
                f"{r['ingest-1']['p50_ms']:.2f}",
                f"{r['ingest-1']['p99_ms']:.2f}",
                share,
            )
        )
    if "ingest-100" in r:
        rows.append(
            (
                "ingest, 100-alert payloads",
                f"{r['ingest-100']['alerts_per_s']:.0f} alerts/s",
                f"{r['ingest-100']['p50_ms']:.2f}",
                f"{r['ingest-100']['p99_ms']:.2f}",
                f"peak RSS {r.get('ingest_peak_rss_mb', 0)} MB",
            )
        )
    if "latency" in r:
        lat = r["latency"]
        rows.append(
            (
                "webhook → flag visible @200/s",
                f"{lat['rate']:.0f} alerts/s",
                f"{lat['p50_ms']:.2f}",
                f"{lat['p99_ms']:.2f}",
                f"{lat['samples']} samples",
            )
        )
    if "priority" in r:
        pri = r["priority"]
        rows.append(
            (
                "critical webhook → flag, warning storm",
                "10 alerts/s",
                f"{pri['p50_ms']:.2f}",
                f"{pri['p99_ms']:.2f}",
                f"{pri['samples']} samples, {pri['backlog_at_first_critical']} warnings queued",
            )
        )
    for key in ("flood", "flood-backlog"):
        if key not in r:
            continue
        fl = r[key]
        queued = f"{fl.get('backlog_before', 0)} queued before, " if key == "flood-backlog" else ""
        share = (
            f", {fl['share_of_drain']} of the drain ({fl.get('drain_of', 'this run')})"
            if "share_of_drain" in fl
            else ""
        )
        rows.append(
            (
                f"trickle webhook → flag, intake flood ({fl['severity']})"
                + (" over a backlog" if key == "flood-backlog" else ""),
                f"{fl['rate']:.0f} alerts/s",
                f"{fl['p50_ms']:.2f}",
                f"{fl['p99_ms']:.2f}",
                f"{fl['samples']} samples, {fl['missing']} missing; flood {fl['flood']['requests_per_s']:.0f}"
                f" webhooks/s ({fl['flood']['non_2xx']} non-2xx), executed {fl['executed_per_s']:.0f}/s"
                f"{share}, {queued}backlog after {fl['backlog_after']}",
            )
        )
    for key in ("drain-1", "drain-2"):
        if key in r:
            d = r[key]
            rows.append(
                (
                    f"drain {d['alerts']} alerts, {key[-1]} replica(s)",
                    f"{d['alerts_per_s']:.0f} alerts/s",
                    "",
                    "",
                    f"{d['alerts_per_s_per_replica']:.0f}/replica, peak RSS {d['peak_rss_mb']} MB"
                    + (f", median of {d['runs']}" if len(d.get("runs", [])) > 1 else ""),
                )
            )
    if "scaling_ratio" in r:
        rows.append(("scaling 2 vs 1 replica", f"x{r['scaling_ratio']}", "", "", ""))
    if "ofrep" in r:
        o = r["ofrep"]
        for name in ("single", "bulk"):
            for side in ("limit", "autonomic"):
                w = o[f"{side}-{name}"]
                rows.append(
                    (
                        f"OFREP {name}, {'bare Litestar (limit)' if side == 'limit' else 'Autonomic'}",
                        f"{w['requests_per_s']:.0f} evals/s",
                        f"{w['p50_ms']:.2f}",
                        f"{w['p99_ms']:.2f}",
                        f"{100 * o[f'{name}_share']:.0f}% of limit" if side == "autonomic" else "",
                    )
                )
        p = o["propagation"]
        rows.append(
            (
                "flag change → OFREP client",
                "",
                f"{p['p50_ms']:.2f}",
                f"{p['p99_ms']:.2f}",
                f"{p['samples']} samples",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows)


if __name__ == "__main__":
    main()
