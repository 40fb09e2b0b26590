"""Every built-in playbook over HTTP: webhook in → effects at the fakes and in Redis;
resolved → flags restored, incident resolved, thread reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import redis

from tests.integration.helpers import alert, executions, payload, post, resolved
from tests.support.fakes import NotifyFake, PagerDutyFake, SlackFake
from tests.support.kube import KubeEmulator, deployment
from tests.support.procs import Service, wait_for


@dataclass
class Case:
    alertname: str
    labels: dict[str, str]
    flags: dict[str, str]
    channel: str | None = None
    pages: bool = False
    restarts: bool = False
    notifies: bool = False
    followups: int = 0
    extra: dict[str, str] = field(default_factory=dict)


CASES = [
    Case(
        "CostSpike",
        {"severity": "warning"},
        {"llm.model_tier": "economy", "cache.mode": "aggressive", "ratelimit.factor": "0.5"},
        "#cost-alerts",
    ),
    Case(
        "DailyCostExceeded",
        {"severity": "critical"},
        {"llm.model_tier": "economy", "cache.mode": "aggressive"},
        "#cost-alerts",
        pages=True,
    ),
    Case("UserBudgetExceeded", {"user_id": "u-42"}, {"ratelimit.user.u-42": "0.1"}, notifies=True),
    # Kept as given (not lower-cased): the flag name encodes what flag names cannot hold.
    Case(
        "UserBudgetExceeded",
        {"user_id": "Alice.Bob@x.io"},
        {"ratelimit.user._41lice._42ob_40x.io": "0.1"},
        notifies=True,
    ),
    Case(
        "HighLatency",
        {"severity": "warning"},
        {"llm.fallback.enabled": "true", "cache.mode": "aggressive"},
        "#llm-performance",
        followups=1,
    ),
    Case(
        "HighLatency",
        {"severity": "critical", "service": "chat"},
        {"llm.fallback.enabled": "true", "cache.mode": "aggressive"},
        "#llm-performance",
        pages=True,
    ),
    Case(
        "HighErrorRate",
        {"severity": "critical"},
        {"llm.fallback.enabled": "true", "llm.retry.max_attempts": "5"},
        "#llm-performance",
        pages=True,
    ),
    Case(
        "LowCacheHitRate",
        {"severity": "warning"},
        {"cache.mode": "aggressive", "cache.similarity_threshold": "0.90"},
        "#llm-performance",
    ),
    Case(
        "PIIDetectionSpike",
        {"severity": "critical"},
        {"safety.pii_redaction": "strict", "logging.prompts": "off"},
        "#security",
        pages=True,
    ),
    Case(
        "PromptInjectionAttempts",
        {"severity": "warning"},
        {"safety.prompt_guard": "strict", "ratelimit.factor": "0.5"},
        "#security",
    ),
    Case(
        "FrequentRateLimits", {"severity": "critical"}, {"ratelimit.factor": "0.5"}, "#security", pages=True
    ),
    Case(
        "ServiceDown",
        {"severity": "critical", "namespace": "llm", "deployment": "chat"},
        {"llm.fallback.enabled": "true"},
        "#llm-oncall",
        pages=True,
        restarts=True,
    ),
    Case(
        "HighRequestQueue",
        {"severity": "warning"},
        {"queue.shed_low_priority": "true", "ratelimit.factor": "0.5"},
        "#llm-oncall",
        followups=1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.alertname}-{c.labels.get('severity', '')}" for c in CASES])
def test_builtin_playbook_end_to_end(
    case: Case,
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    slack: SlackFake,
    pagerduty: PagerDutyFake,
    notify: NotifyFake,
    kube: KubeEmulator,
    sync_redis: redis.Redis,
    flag_prefix: str,
    ns: str,
) -> None:
    kube.add(deployment("chat", "llm"))
    svc = start_service(**outside_env)
    firing = alert(case.alertname, **case.labels)
    assert post(svc.url, payload(firing)).status_code == 202

    def values() -> dict[str, str | None]:
        return {name: sync_redis.get(flag_prefix + name) for name in case.flags}  # type: ignore[misc]

    wait_for(lambda: values() == case.flags, what=f"flags of {case.alertname}")
    (run,) = wait_for(
        lambda: [r for r in executions(svc.url) if r["playbook"] != "autonomic.resolve"], what="execution"
    )
    assert run["status"] == "succeeded", run
    assert all(a["status"] == "ok" for a in run["actions"]), run["actions"]

    if case.channel:
        (message,) = slack.top_level()
        assert message["channel"] == case.channel
        assert case.alertname in message["blocks"][0]["text"]["text"]
    else:
        assert slack.messages == []
    assert len(pagerduty.actions("trigger")) == (1 if case.pages else 0)
    if case.pages:
        (event,) = pagerduty.actions("trigger")
        assert event["dedup_key"] == f"autonomic-{firing['fingerprint']}"
        assert event["payload"]["severity"] == "critical"
    patches = kube.requests("PATCH", "/deployments/chat")
    assert len(patches) == (1 if case.restarts else 0)
    if case.restarts:
        assert patches[0]["headers"]["Content-Type"].startswith("application/strategic-merge-patch+json")
        annotations = kube.get("chat", "llm")["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in annotations
    if case.notifies:
        (note,) = notify.notifications
        assert note["user_id"] == case.labels["user_id"] and note["kind"] == "budget_exceeded"
    assert sync_redis.zcard(f"{ns}followups") == case.followups

    assert post(svc.url, payload(resolved(firing))).status_code == 202
    wait_for(lambda: set(values().values()) == {None}, what="flags restored")
    (release,) = wait_for(lambda: executions(svc.url, playbook="autonomic.resolve"), what="resolve")
    kinds = [a["kind"] for a in release["actions"]]
    assert kinds[0] == "flags.release_all"
    assert ("pagerduty.resolve" in kinds) == case.pages
    assert ("slack.reply" in kinds) == bool(case.channel)
    if case.pages:
        (resolve_event,) = pagerduty.actions("resolve")
        assert resolve_event["dedup_key"] == f"autonomic-{firing['fingerprint']}"
    if case.channel:
        (reply,) = slack.replies()
        assert reply["thread_ts"] == slack.top_level()[0]["ts"]
    assert sync_redis.zcard(f"{ns}followups") == 0  # the resolve cancelled them
