"""The closed loop with real parts: the cost exporter's gauge crosses a rule's threshold in a
real Prometheus, the alert goes through a real Alertmanager to the service, the playbook sets
the flags; the spend goes away, the alert resolves, the flags are restored. Also a ServiceDown
injected with amtool reaching the Kubernetes emulator. Each test prints its timeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from tests.conftest import WEBHOOK_TOKEN
from tests.integration.helpers import executions
from tests.support.alertmanager import Alertmanager
from tests.support.dashboards import all_dashboard_queries, metric_names
from tests.support.fakes import PagerDutyFake
from tests.support.kube import KubeEmulator, deployment
from tests.support.procs import ROOT, Service, wait_for
from tests.support.prometheus import Prometheus

pytestmark = pytest.mark.e2e
COST_FLAGS = {"llm.model_tier": "economy", "cache.mode": "aggressive", "ratelimit.factor": "0.5"}


class Timeline:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.events: list[tuple[float, str]] = []

    def mark(self, event: str) -> None:
        self.events.append((time.monotonic() - self.start, event))

    def print(self, title: str) -> None:
        print(f"\n{title}")
        for at, event in self.events:
            print(f"  {at:7.2f}s  {event}")


def served_by_autonomic(expr: str) -> bool:
    """A query of Autonomic's own metrics or its cost gauges (not the LLM application's)."""
    return all(name.startswith(("autonomic_", "ai_")) for name in metric_names(expr))


def fast_rules() -> dict[str, Any]:
    """The shipped rules with `for:` shortened so the loop closes in seconds."""
    rules = yaml.safe_load((ROOT / "helm" / "autonomic" / "files" / "alert-rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "1s"
    return rules


@pytest.fixture
def loop(
    start_service: Callable[..., Service], ns: str
) -> Iterator[tuple[Service, Alertmanager, Prometheus]]:
    svc = start_service(
        AUTONOMIC_COST_KEY_PREFIX=f"{ns}app:",
        AUTONOMIC_JOB_COST_EXPORTER="interval:1s",
        AUTONOMIC_LEADER_TTL="3s",
    )
    am = Alertmanager(f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN).start()
    prom = Prometheus(
        targets=[f"127.0.0.1:{svc.port}"], rules=fast_rules(), alertmanager=f"127.0.0.1:{am.port}"
    ).start()
    yield svc, am, prom
    prom.stop()
    am.stop()


def test_cost_spike_closes_the_loop(
    loop: tuple[Service, Alertmanager, Prometheus], sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    svc, am, prom = loop
    timeline = Timeline()
    hour_key = f"{ns}app:cost:hourly:{datetime.now(UTC):%Y-%m-%d-%H}"

    def flags() -> dict[str, str | None]:
        return {name: sync_redis.get(flag_prefix + name) for name in COST_FLAGS}  # type: ignore[misc]

    def firing() -> bool:
        return any(a["labels"]["alertname"] == "CostSpike" and a["state"] == "firing" for a in prom.alerts())

    now = datetime.now(UTC)
    # The tracker's other keys, so every cost panel has something to show.
    sync_redis.mset(
        {
            f"{ns}app:cost:daily:{now:%Y-%m-%d}:user:alice:model:gpt-4o": 10,
            f"{ns}app:cost:daily:{now:%Y-%m-%d}:model:gpt-4o": 10,
            f"{ns}app:requests:hourly:{now:%Y-%m-%d-%H}:model:gpt-4o:cache_hit:true": 3,
            f"{ns}app:requests:hourly:{now:%Y-%m-%d-%H}:model:gpt-4o:cache_hit:false": 1,
            f"{ns}app:latency:hourly:{now:%Y-%m-%d-%H}:model:gpt-4o": 4000,
        }
    )
    sync_redis.set(hour_key, 500)
    timeline.mark("seeded 500 USD of spend this hour")
    wait_for(lambda: prom.query("ai_hourly_cost_usd > 100"), timeout=60, what="gauge scraped above threshold")
    timeline.mark("Prometheus sees ai_hourly_cost_usd = 500")
    wait_for(firing, timeout=60, what="CostSpike firing in Prometheus")
    timeline.mark("CostSpike firing")
    wait_for(
        lambda: flags() == COST_FLAGS,
        timeout=60,
        what=f"flags set\n{am.logs()[-3000:]}\n{svc.logs()[-3000:]}",
    )
    timeline.mark("Alertmanager posted; playbook set the three flags")
    overlays = [
        (where, expr)
        for where, expr in all_dashboard_queries()
        if "annotation" in where and any(f'"{flag}"' in expr for flag in COST_FLAGS)
    ]
    assert len(overlays) == 3
    for where, expr in overlays:
        wait_for(lambda expr=expr: prom.query(expr), timeout=30, what=f"{where} shaded while the flag is on")
    timeline.mark("the cost dashboard's mitigation overlays return the active periods")

    sync_redis.delete(hour_key)
    timeline.mark("spend removed")
    wait_for(lambda: not firing(), timeout=60, what="CostSpike no longer firing")
    timeline.mark("CostSpike resolved in Prometheus")
    wait_for(lambda: set(flags().values()) == {None}, timeout=90, what=f"flags restored\n{am.logs()[-3000:]}")
    timeline.mark("resolved notification released the leases: flags restored")
    panels = [(w, e) for w, e in all_dashboard_queries() if "annotation" not in w and served_by_autonomic(e)]
    assert len(panels) > 30
    for where, expr in panels:
        wait_for(lambda expr=expr: prom.query(expr), timeout=30, what=f"data for {where}: {expr}")
    timeline.mark(f"all {len(panels)} Autonomic queries of the dashboards return data in Prometheus")
    timeline.print("closed loop (CostSpike):")


def test_amtool_service_down_restarts_through_the_kubernetes_emulator(
    start_service: Callable[..., Service], kube: KubeEmulator, tmp_path: Any
) -> None:
    kube.add(deployment("chat", "llm"))
    svc = start_service(AUTONOMIC_KUBECONFIG=str(kube.kubeconfig(tmp_path)), AUTONOMIC_KUBE_NAMESPACES="llm")
    am = Alertmanager(f"{svc.url}/webhooks/alertmanager", WEBHOOK_TOKEN).start()
    try:
        timeline = Timeline()
        am.fire(
            "alertname=ServiceDown", "severity=critical", "namespace=llm", "deployment=chat", "job=llm-app"
        )
        timeline.mark("amtool alert add ServiceDown")
        wait_for(lambda: kube.requests("PATCH", "/deployments/chat"), timeout=60, what="restart PATCH")
        timeline.mark("rollout restart PATCH reached the emulator")
        annotations = kube.get("chat", "llm")["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in annotations
        timeline.print("amtool → Alertmanager → Autonomic → Kubernetes:")
    finally:
        am.stop()


class LatencyTarget:
    """A scrape target exporting `llm_request_duration_seconds` with every request taking ~20s
    (p95 19.75s: above both HighLatency thresholds, 5s and 15s)."""

    def __init__(self) -> None:
        started = time.monotonic()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                n = int((time.monotonic() - started) * 10) + 1  # ten requests a second
                buckets = {"5": 0, "15": 0, "20": n, "25": n, "+Inf": n}
                lines = ["# TYPE llm_request_duration_seconds histogram"]
                lines += [
                    f'llm_request_duration_seconds_bucket{{le="{le}"}} {c}' for le, c in buckets.items()
                ]
                lines += [
                    f"llm_request_duration_seconds_sum {20 * n}",
                    f"llm_request_duration_seconds_count {n}",
                ]
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def shipped_alertmanager_config(webhook_url: str, token_file: Path) -> str:
    """The shipped example (routes and inhibit rules as they are) pointed at the test service,
    with its waits shortened."""
    config = yaml.safe_load((ROOT / "helm" / "autonomic" / "files" / "alertmanager.example.yml").read_text())
    config["route"].update(group_wait="2s", group_interval="1s")
    (hook,) = next(r for r in config["receivers"] if r["name"] == "autonomic")["webhook_configs"]
    hook["url"] = webhook_url
    hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return yaml.safe_dump(config)


def test_high_latency_at_20s_pages_once_through_the_shipped_inhibit_rule(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    pagerduty: PagerDutyFake,
    tmp_path: Path,
) -> None:
    target = LatencyTarget()
    svc = start_service(**outside_env)
    token_file = tmp_path / "webhook-token"
    token_file.write_text(WEBHOOK_TOKEN)
    am = Alertmanager(
        "", WEBHOOK_TOKEN, text=shipped_alertmanager_config(f"{svc.url}/webhooks/alertmanager", token_file)
    ).start()
    prom = Prometheus(
        targets=[target.address], rules=fast_rules(), alertmanager=f"127.0.0.1:{am.port}"
    ).start()
    try:
        timeline = Timeline()

        def latency_alerts() -> dict[str, dict[str, Any]]:
            return {
                a["labels"]["severity"]: a for a in am.active() if a["labels"]["alertname"] == "HighLatency"
            }

        wait_for(
            lambda: len(latency_alerts()) == 2,
            timeout=90,
            what=f"both HighLatency rules firing\n{prom.logs()}",
        )
        timeline.mark("both HighLatency alerts (warning, critical) in Alertmanager")
        (page,) = wait_for(lambda: pagerduty.actions("trigger"), timeout=60, what="the page")
        timeline.mark("critical paged through high_latency")
        alerts = latency_alerts()
        assert alerts["warning"]["status"]["inhibitedBy"] == [alerts["critical"]["fingerprint"]]
        assert page["dedup_key"] == f"autonomic-{alerts['critical']['fingerprint']}"
        # The page is sent mid-run; the execution is listed once it has finished.
        (run,) = wait_for(
            lambda: executions(svc.url, playbook="high_latency"), timeout=60, what="the finished execution"
        )
        assert run["alert"]["labels"]["severity"] == "critical"
        assert run["alert"]["annotations"]["description"] == "p95 latency is 19.8s (threshold 15s)."
        assert len(pagerduty.actions("trigger")) == 1
        timeline.print("HighLatency at 20s with the shipped Alertmanager example:")
    finally:
        prom.stop()
        am.stop()
        target.stop()
