"""The kill switch and the state/event split through the running service: a paused run is
recorded `refused`, takes no cooldown and is re-applied on resume; a resolve while paused still
restores; a re-fire inside the cooldown gets its flags again but pages once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis

from tests.conftest import NAMED_OPERATOR_TOKENS, NAMED_OPERATORS
from tests.integration.helpers import OPERATOR, alert, executions, flags, payload, post, resolved
from tests.support.fakes import PagerDutyFake, SlackFake
from tests.support.procs import ROOT, Service, wait_for

COST_FLAGS = {"llm.model_tier": "economy", "cache.mode": "aggressive", "ratelimit.factor": "0.5"}


def cost_flags(sync_redis: redis.Redis, prefix: str) -> dict[str, Any]:
    return {name: sync_redis.get(prefix + name) for name in COST_FLAGS}


def cli(svc: Service, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args, "--url", svc.url, "--token", NAMED_OPERATORS["alice"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def paused_gauge(svc: Service) -> float:
    for line in httpx.get(f"{svc.url}/metrics", timeout=5).text.splitlines():
        if line.startswith("autonomic_paused "):
            return float(line.split()[1])
    raise AssertionError("autonomic_paused is not exported")


def test_pause_fire_resume_mitigates_once_resumed(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    svc = start_service(AUTONOMIC_OPERATOR_TOKENS=NAMED_OPERATOR_TOKENS)
    done = cli(svc, "pause", "--reason", "deploy freeze", "--for", "1h")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("paused: deploy freeze, by alice, until ")
    assert done.stdout.rstrip().endswith(" UTC"), done.stdout  # a time with its zone
    state = httpx.get(f"{svc.url}/api/pause", headers=OPERATOR).json()
    assert (state["paused"], state["reason"], state["by"], state["source"]) == (
        True,
        "deploy freeze",
        "alice",
        "api",
    )
    assert 3500 < state["until"] - time.time() <= 3600
    assert flags(svc.url)["autonomic.paused"]["value"] == "true"
    listed = httpx.get(f"{svc.url}/api/playbooks", headers=OPERATOR).json()
    assert {p["paused"] for p in listed} == {True}
    assert paused_gauge(svc) == 1

    firing = alert("CostSpike")
    post(svc.url, payload(firing))
    (refused,) = wait_for(lambda: executions(svc.url, playbook="cost_spike"), what="refused run")
    assert refused["status"] == "refused"
    assert refused["skipped_reason"] == "paused: autonomic.paused is set"
    assert set(cost_flags(sync_redis, flag_prefix).values()) == {None}
    assert not sync_redis.keys(f"{ns}cooldown:*")

    done = cli(svc, "resume")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "running: playbooks act on alerts"
    wait_for(lambda: cost_flags(sync_redis, flag_prefix) == COST_FLAGS, what="mitigated after resume")
    runs = executions(svc.url, playbook="cost_spike")
    assert [r["status"] for r in runs] == ["succeeded", "refused"]
    assert runs[0]["reason"] == "re-applied: the alert still fires after the pause"
    assert paused_gauge(svc) == 0
    audit = [e["playbook"] for e in executions(svc.url) if e["playbook"].startswith("autonomic.")]
    assert audit[:2] == ["autonomic.resume", "autonomic.pause"]


def test_a_resolve_while_paused_restores_the_baseline(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str, ns: str
) -> None:
    svc = start_service(AUTONOMIC_OPERATOR_TOKENS=NAMED_OPERATOR_TOKENS)
    firing = alert("CostSpike")
    post(svc.url, payload(firing))
    wait_for(lambda: cost_flags(sync_redis, flag_prefix) == COST_FLAGS, what="mitigated")
    response = httpx.post(f"{svc.url}/api/pause", json={"reason": "incident review"}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    assert response.json()["until"] is None
    # The switch is listed among the flags, but is not reverted like a mitigation.
    assert "autonomic.paused" in {
        f["name"] for f in httpx.get(f"{svc.url}/api/flags", headers=OPERATOR).json()
    }
    refused = httpx.delete(f"{svc.url}/api/flags/autonomic.paused", headers=OPERATOR)
    assert refused.status_code == 409 and "DELETE /api/pause" in refused.json()["detail"]
    assert httpx.get(f"{svc.url}/api/pause", headers=OPERATOR).json()["paused"] is True

    post(svc.url, payload(resolved(firing)))
    wait_for(lambda: set(cost_flags(sync_redis, flag_prefix).values()) == {None}, what="restored")
    (release,) = executions(svc.url, playbook="autonomic.resolve")
    assert release["status"] == "succeeded"
    assert {a["status"] for a in release["actions"]} == {"ok"}

    assert httpx.delete(f"{svc.url}/api/pause", headers=OPERATOR).json()["paused"] is False
    assert sync_redis.hlen(f"{ns}reapply") == 0 and sync_redis.hlen(f"{ns}tracked") == 0
    assert set(cost_flags(sync_redis, flag_prefix).values()) == {None}  # nothing comes back


def test_a_pause_that_expires_is_followed_by_the_reconciler(
    start_service: Callable[..., Service], sync_redis: redis.Redis, flag_prefix: str
) -> None:
    svc = start_service(AUTONOMIC_RECONCILE_INTERVAL="300ms")
    response = httpx.post(f"{svc.url}/api/pause", json={"reason": "short", "for": "2s"}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    post(svc.url, payload(alert("CostSpike")))
    wait_for(lambda: executions(svc.url, playbook="cost_spike"), what="refused run")
    wait_for(
        lambda: cost_flags(sync_redis, flag_prefix) == COST_FLAGS,
        timeout=30,
        what="re-applied once the pause expired",
    )
    assert httpx.get(f"{svc.url}/api/pause", headers=OPERATOR).json()["paused"] is False


def test_pause_rejects_bad_input_and_needs_the_operator(start_service: Callable[..., Service]) -> None:
    svc = start_service(AUTONOMIC_OPERATOR_TOKENS=NAMED_OPERATOR_TOKENS)
    url = f"{svc.url}/api/pause"
    assert httpx.post(url, json={"reason": ""}, headers=OPERATOR).status_code == 400
    assert httpx.post(url, json={"reason": "x", "for": "soon"}, headers=OPERATOR).status_code == 400
    assert httpx.post(url, json={"for": "1h"}, headers=OPERATOR).status_code == 400
    assert httpx.post(url, json={"reason": "x"}).status_code == 401
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=OPERATOR).json() == {
        "paused": False,
        "reason": None,
        "by": None,
        "since": None,
        "until": None,
        "source": None,
    }
    done = cli(svc, "pause", "--reason", "x", "--for", "soon")
    assert done.returncode != 0 and "invalid duration" in done.stderr and "Traceback" not in done.stderr


def test_a_refire_inside_the_cooldown_sets_the_flags_again_but_pages_once(
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    pagerduty: PagerDutyFake,
    slack: SlackFake,
    sync_redis: redis.Redis,
    flag_prefix: str,
) -> None:
    svc = start_service(**outside_env)
    first = alert("HighLatency", severity="critical", fingerprint="lat0001", starts_at="2026-11-26T10:00:00Z")
    fallback = lambda: sync_redis.get(flag_prefix + "llm.fallback.enabled")  # noqa: E731
    post(svc.url, payload(first))
    wait_for(lambda: fallback() == "true" and pagerduty.actions("trigger"), what="mitigated and paged")
    post(svc.url, payload(resolved(first)))
    wait_for(lambda: fallback() is None and pagerduty.actions("resolve"), what="restored and resolved")
    again = {**first, "startsAt": "2026-11-26T10:03:00Z"}
    post(svc.url, payload(again))
    wait_for(lambda: fallback() == "true", what="flags set again inside the cooldown")
    runs = wait_for(
        lambda: (r := executions(svc.url, playbook="high_latency")) and len(r) == 2 and r, what="2 runs"
    )
    assert len(pagerduty.actions("trigger")) == 1  # the page is an event: once per cooldown
    second = runs[0]
    assert [(a["kind"], a["status"]) for a in second["actions"]] == [
        ("flags.set", "ok"),
        ("flags.set", "ok"),
        ("pagerduty.trigger", "skipped"),
        ("slack.post", "skipped"),
    ]
    posts = [r for r in slack.requests if r["status"] == 200]
    assert len(posts) == 2  # the first episode's message and the reply on its resolve
