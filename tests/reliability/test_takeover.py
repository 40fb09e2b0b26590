"""Exactly one effect per kind when a replica is SIGKILLed inside the call.

The fake (or kmock) holds the request open; the replica is killed while it
waits; the request is then let through, so the effect happens at the fake but
the replica never learned it. A second replica reclaims the entry, finds the
write-ahead intent and resolves it per kind (restart stamp, PagerDuty dedup
key, Idempotency-Key, Slack message metadata in the channel history, the key
handed to `ctx.act`). The effects are counted at the fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.helpers import alert, executions, payload, post
from tests.support.fakes import NotifyFake, PagerDutyFake, SlackFake
from tests.support.kube import KubeEmulator, deployment
from tests.support.procs import Service, wait_for

KINDS = ["slack", "slack-webhook", "pagerduty", "notify", "kube", "act"]


def hold(
    kind: str, slack: SlackFake, pagerduty: PagerDutyFake, notify: NotifyFake, kube: KubeEmulator
) -> tuple[threading.Event, Callable[[], None]]:
    """Make the fake of `kind` hold its next request; return (held, release)."""
    if kind == "kube":
        held, release = kube.hold_patches()
        return held, release.set
    fake = {"slack": slack, "slack-webhook": slack, "pagerduty": pagerduty, "notify": notify}[kind]
    fake.hold.clear()
    return fake.held, fake.hold.set


def effects(
    kind: str,
    slack: SlackFake,
    pagerduty: PagerDutyFake,
    notify: NotifyFake,
    kube: KubeEmulator,
    sync_redis: redis.Redis,
    ns: str,
) -> int:
    """The effects the outside world saw, counted where they land."""
    if kind.startswith("slack"):
        return len(slack.messages)
    if kind == "pagerduty":
        return len(pagerduty.incidents())
    if kind == "notify":
        return len(notify.delivered)
    if kind == "kube":
        return len(kube.requests("PATCH", "/deployments/chat"))
    return int(sync_redis.get(f"{ns}effects:act") or 0)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_inside_a_call_yields_exactly_one_effect(
    kind: str,
    start_service: Callable[..., Service],
    outside_env: dict[str, str],
    test_playbooks: Path,
    slack: SlackFake,
    pagerduty: PagerDutyFake,
    notify: NotifyFake,
    kube: KubeEmulator,
    sync_redis: redis.Redis,
    ns: str,
) -> None:
    kube.add(deployment("chat", "llm"))
    env = {
        **outside_env,
        "AUTONOMIC_PLAYBOOK_DIRS": str(test_playbooks),
        "AUTONOMIC_BUILTIN_PLAYBOOKS": "false",
    }
    if kind == "slack-webhook":
        del env["AUTONOMIC_SLACK_TOKEN"]
        env["AUTONOMIC_SLACK_WEBHOOK_URL"] = f"{slack.url}/hooks/T000/B000/XXXX"
    first = start_service(name="first", **env)
    if kind == "act":
        inside: Any = None
    else:
        held, release = hold(kind, slack, pagerduty, notify, kube)
    post(first.url, payload(alert("CrashEffect", effect=kind.split("-")[0])))
    if kind == "act":
        inside = wait_for(lambda: sync_redis.get(f"{ns}inside"), what="inside the custom action")
        assert int(inside) == first.proc.pid  # type: ignore[union-attr]
    else:
        assert held.wait(30), f"the {kind} call never reached the fake\n{first.logs()[-3000:]}"
    first.kill()  # SIGKILL inside the call: nothing after it runs in this replica
    if kind == "act":
        sync_redis.set(f"{ns}release", "1")
    else:
        release()  # the held request now completes at the fake: the effect happened
    wait_for(
        lambda: effects(kind, slack, pagerduty, notify, kube, sync_redis, ns) >= 1,
        what="the interrupted call's effect",
    )
    second = start_service(name="second", **env)
    flag = f"{ns}flags:crash.effect"
    wait_for(
        lambda: sync_redis.get(flag),
        timeout=60,
        what=f"reclaimed execution finished\n{second.logs()[-3000:]}",
    )
    (run,) = wait_for(lambda: executions(second.url, playbook="crash_effect"), what="execution record")
    assert effects(kind, slack, pagerduty, notify, kube, sync_redis, ns) == 1
    action = run["actions"][0]
    if kind == "slack-webhook":  # cannot be looked up: at most once, the failure recorded
        assert run["status"] == "succeeded_with_failures"
        assert action["status"] == "failed" and "at most once" in action["error"]
    else:
        assert run["status"] == "succeeded", run
        assert action["status"] == "ok"
    if kind == "slack":
        assert action["reason"] == "took effect before the interruption"
        (message,) = slack.messages
        assert message["metadata"]["event_payload"]["key"] == f"{run['id']}:0"
