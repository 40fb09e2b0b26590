"""Each adapter against its emulator or fake: success, 429 / 5xx / 403 / 409 / timeouts,
bounded retries, idempotency and guardrails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import kmock
import pytest
import redis.asyncio as aioredis
from kubernetes.aio import config as kconfig
from slack_sdk.web.async_client import AsyncWebClient

from app.actions.guardrails import KubeBudget, Limits
from app.actions.kube import KubeAdapter, selector
from app.actions.notify import NotifyAdapter
from app.actions.pagerduty import PagerDutyAdapter, severity_of
from app.actions.retry import ActionFailed, Retryable, RetryPolicy
from app.actions.slack import SlackAdapter, build_message, escape
from app.errors import GuardrailRefused, PermanentError
from app.keys import Keys
from tests.conftest import NOTIFY_TOKEN, PD_ROUTING_KEY, SLACK_TOKEN
from tests.support.fakes import NotifyFake, PagerDutyFake, SlackFake
from tests.support.kube import deployment

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)
DEPLOY = kmock.resource("apps/v1/deployments")


# -- Kubernetes -------------------------------------------------------------------------------


@pytest.fixture
async def k8s(aredis: aioredis.Redis, ns: str) -> AsyncIterator[tuple[Any, KubeAdapter]]:
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
        emulator.objects["apps/v1/deployments", "llm", "chat"] = deployment("chat", "llm")
        emulator.objects["apps/v1/deployments", "llm", "frozen"] = deployment("frozen", "llm", paused=True)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "k", "cluster": {"server": str(server.url).rstrip("/")}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "current-context": "c",
        }
        api = await kconfig.new_client_from_config_dict(config)
        adapter = KubeAdapter(
            api,
            namespaces=["llm"],
            budget=KubeBudget(aredis, Keys(ns), Limits(workload=2)),
            policy=FAST,
            timeout=0.5,
        )
        yield emulator, adapter
        await adapter.close()


def patches(emulator: Any) -> list[Any]:
    return [r for r in list(emulator) if str(r.method).upper().endswith("PATCH")]


async def test_restart_patches_like_kubectl_once_per_key(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s
    result = await kube.restart("deployment", "chat", "llm", key="ex-1:0")
    assert "restarted_at" in result
    (patch,) = patches(emulator)
    assert patch.headers["Content-Type"].startswith("application/strategic-merge-patch+json")
    annotations = patch.data["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"kubectl.kubernetes.io/restartedAt", "autonomic.io/restart-key"}
    # The same action again (a reclaimed execution): the stamp is there, no second rollout.
    again = await kube.restart("deployment", "chat", "llm", key="ex-1:0")
    assert again["already_done"] is True
    assert len(patches(emulator)) == 1


async def test_restart_guardrails(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s
    with pytest.raises(GuardrailRefused, match="not in AUTONOMIC_KUBE_NAMESPACES"):
        await kube.restart("deployment", "chat", "kube-system", key="a")
    with pytest.raises(GuardrailRefused, match="rollout is paused"):
        await kube.restart("deployment", "frozen", "llm", key="b")
    await kube.restart("deployment", "chat", "llm", key="c")
    await kube.restart("deployment", "chat", "llm", key="d")
    with pytest.raises(GuardrailRefused, match="kube budget per workload"):
        await kube.restart("deployment", "chat", "llm", key="e")
    assert len(patches(emulator)) == 2
    assert not [r for r in list(emulator) if "kube-system" in r.url.path]  # never touched


async def test_restart_403_is_permanent(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s
    emulator[kmock.method.PATCH, DEPLOY] << 403
    with pytest.raises(PermanentError, match="forbidden"):
        await kube.restart("deployment", "chat", "llm", key="x")
    assert len(patches(emulator)) == 1


async def test_restart_409_is_retried_then_fails(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s
    emulator[kmock.method.PATCH, DEPLOY] << 409
    with pytest.raises(ActionFailed, match="after 3 tries"):
        await kube.restart("deployment", "chat", "llm", key="y")
    assert len(patches(emulator)) == 3


async def test_timeouts_are_retried_and_bounded(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s

    async def slow() -> dict[str, Any]:
        await asyncio.sleep(5)
        return {}

    emulator[kmock.method.GET, DEPLOY] << slow
    with pytest.raises(ActionFailed, match="TimeoutError"):
        await kube.restart("deployment", "chat", "llm", key="z")
    gets = [r for r in list(emulator) if str(r.method).upper().endswith("GET")]
    assert len(gets) == 3
    assert patches(emulator) == []


async def test_delete_pods_by_validated_selector_with_a_cap(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s
    for i in range(3):
        emulator.objects["v1/pods", "llm", f"chat-{i}"] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"chat-{i}", "namespace": "llm", "labels": {"app": "chat"}},
            "spec": {"containers": [{"name": "app", "image": "chat:1"}]},
        }
    with pytest.raises(GuardrailRefused, match="3 pods match, more than the limit of 2"):
        await kube.delete_pods("llm", labels={"app": "chat"}, max_count=2, key="k0")
    listing = [
        r for r in list(emulator) if str(r.method).upper().endswith("GET") and r.url.path.endswith("/pods")
    ]
    assert listing[-1].params["labelSelector"] == "app=chat"  # kmock ignores it: assert what was asked
    result = await kube.delete_pods("llm", names=["chat-0"], key="k1")
    assert result == {"deleted": ["chat-0"]}
    with pytest.raises(PermanentError, match="invalid label selector"):
        await kube.delete_pods("llm", labels={"app": "chat,tier!=x"}, key="k2")


async def test_scale(k8s: tuple[Any, KubeAdapter]) -> None:
    emulator, kube = k8s
    assert await kube.scale("deployment", "chat", "llm", 4, key="s1") == {"replicas": 4, "was": 2}
    (patch,) = patches(emulator)
    assert patch.url.path.endswith("/deployments/chat")  # the workload itself: no */scale RBAC
    assert patch.data == {"spec": {"replicas": 4}}


def test_selector_rejects_injection() -> None:
    assert selector({"app": "chat", "tier": "web"}) == "app=chat,tier=web"
    for bad in ({"app": "a,b"}, {"app in (x)": "y"}, {"app": "x y"}, {}):
        with pytest.raises(PermanentError):
            selector(bad)


# -- Slack ------------------------------------------------------------------------------------


def slack_adapter(fake: SlackFake, token: str = SLACK_TOKEN) -> SlackAdapter:
    web = AsyncWebClient(token=token, base_url=f"{fake.url}/api/", timeout=2, retry_handlers=[])
    return SlackAdapter(web=web, policy=FAST)


MESSAGE = build_message(title="CostSpike", text="spend", status="firing", labels={}, actions=[], links={})


async def test_slack_posts_and_threads(slack: SlackFake) -> None:
    adapter = slack_adapter(slack)
    first = await adapter.post("#cost", MESSAGE)
    await adapter.post("#cost", MESSAGE, thread_ts=first["ts"])
    assert [m.get("thread_ts") for m in slack.messages] == [None, first["ts"]]


async def test_slack_429_retry_after_then_success(slack: SlackFake) -> None:
    slack.fail_next(1, 429, {"ok": False, "error": "ratelimited"}, Retry_After="0")
    result = await slack_adapter(slack).post("#cost", MESSAGE)
    assert result["ts"]
    assert [r["status"] for r in slack.requests] == [429, 200]


async def test_slack_5xx_is_bounded_and_auth_errors_are_permanent(slack: SlackFake) -> None:
    slack.fail_next(3, 503)
    with pytest.raises(ActionFailed, match="after 3 tries"):
        await slack_adapter(slack).post("#cost", MESSAGE)
    assert len(slack.requests) == 3
    with pytest.raises(PermanentError, match="invalid_auth"):
        await slack_adapter(slack, token="xoxb-wrong").post("#cost", MESSAGE)


async def test_slack_text_cannot_inject_markup_or_mentions(slack: SlackFake) -> None:
    hostile = build_message(
        title="X",
        text="<!channel> <@U123> <https://evil.example|click> @here",
        status="firing",
        labels={"service": "<!everyone>"},
        actions=[],
        links={
            "Runbook": "https://ok.example/r",
            "Bad": "javascript:alert(1)",
            "Pipe": "https://x|<!channel>",
        },
    )
    await slack_adapter(slack).post("#sec", hostile)
    (message,) = slack.messages
    rendered = json.dumps(message["blocks"])
    for forbidden in ("<!channel>", "<@U123>", "<https://evil", "<!everyone>", "javascript:", "@here"):
        assert forbidden not in rendered
        assert forbidden not in message["text"]  # the fallback text notifications show, too
    assert "&lt;!channel&gt;" in message["text"]
    assert "&lt;!channel&gt;" in rendered
    assert "<https://ok.example/r|Runbook>" in rendered
    assert escape("a & b") == "a &amp; b"


async def test_slack_timeout_is_retried_and_bounded(slack: SlackFake) -> None:
    slack.hold.clear()  # the fake never answers in time
    web = AsyncWebClient(token=SLACK_TOKEN, base_url=f"{slack.url}/api/", timeout=1, retry_handlers=[])
    with pytest.raises(ActionFailed, match="slack unreachable"):
        await SlackAdapter(web=web, policy=FAST).post("#cost", MESSAGE)
    slack.hold.set()


async def test_slack_incoming_webhook_alternative(slack: SlackFake) -> None:
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    hook = AsyncWebhookClient(f"{slack.url}/hooks/T0/B0/secret", retry_handlers=[])
    result = await SlackAdapter(webhook=hook, policy=FAST).post("#cost", MESSAGE)
    assert result == {"channel": "#cost", "ts": None}
    (request,) = slack.requests
    assert request["path"] == "/hooks/T0/B0/secret"
    assert json.loads(request["body"])["blocks"][0]["type"] == "header"


async def test_slack_finds_an_interrupted_post_by_its_metadata(slack: SlackFake) -> None:
    import time

    from app.actions.slack import OutcomeUnknown

    adapter = slack_adapter(slack)
    since = time.time()
    first = await adapter.post("#ops", MESSAGE, key="ex-1:0")
    reply = await adapter.post("#ops", MESSAGE, thread_ts=first["ts"], key="ex-1:1")
    assert slack.messages[0]["metadata"] == {
        "event_type": "autonomic_action",
        "event_payload": {"key": "ex-1:0"},
    }
    found = await adapter.find("#ops", "ex-1:0", since=since)  # #name resolved to its ID first
    assert found is not None and found["ts"] == first["ts"]
    in_thread = await adapter.find("#ops", "ex-1:1", since=since, thread_ts=first["ts"])
    assert in_thread is not None and in_thread["ts"] == reply["ts"]
    assert await adapter.find("#ops", "ex-2:0", since=since) is None  # never posted: post it
    with pytest.raises(OutcomeUnknown, match="could not be checked"):
        await adapter.find("#nowhere", "ex-1:0", since=since)
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    hook = SlackAdapter(webhook=AsyncWebhookClient(f"{slack.url}/hooks/T0/B0/x"), policy=FAST)
    with pytest.raises(OutcomeUnknown, match="at most once"):
        await hook.find("#ops", "ex-1:0", since=since)


# -- PagerDuty --------------------------------------------------------------------------------


def pd_adapter(fake: PagerDutyFake, key: str = PD_ROUTING_KEY) -> PagerDutyAdapter:
    import ssl

    context = ssl.create_default_context(cafile=str(fake.ca_bundle))  # type: ignore[attr-defined]
    return PagerDutyAdapter(key, policy=FAST, events_url=fake.url, timeout=2, verify=context)


async def test_pagerduty_trigger_and_resolve(pagerduty: PagerDutyFake) -> None:
    adapter = pd_adapter(pagerduty)
    await adapter.trigger(
        key="autonomic-abc",
        summary="[ServiceDown] chat is down",
        source="chat",
        severity="critical",
        custom_details={"labels": {"a": "b"}},
        links=[{"href": "https://runbooks/x", "text": "Runbook"}],
    )
    await adapter.resolve("autonomic-abc")
    trigger, resolve = pagerduty.events
    assert trigger["event_action"] == "trigger"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["links"] == [{"href": "https://runbooks/x", "text": "Runbook"}]
    assert resolve == {"event_action": "resolve", "dedup_key": "autonomic-abc", "routing_key": PD_ROUTING_KEY}


async def test_pagerduty_500_then_success_and_bounded(pagerduty: PagerDutyFake) -> None:
    pagerduty.fail_next(1, 500)
    await pd_adapter(pagerduty).acknowledge("autonomic-abc")
    assert [r["status"] for r in pagerduty.requests] == [500, 202]
    pagerduty.fail_next(10, 502)
    with pytest.raises(ActionFailed, match="after 3 tries"):
        await pd_adapter(pagerduty).resolve("autonomic-abc")


async def test_pagerduty_429_honours_retry_after(pagerduty: PagerDutyFake) -> None:
    pagerduty.fail_next(2, 429, Retry_After="0")  # the client re-sends once itself, then we retry
    await pd_adapter(pagerduty).resolve("autonomic-abc")
    assert [r["status"] for r in pagerduty.requests][-1] == 202


async def test_pagerduty_bad_key_is_permanent_and_not_leaked(pagerduty: PagerDutyFake) -> None:
    with pytest.raises(PermanentError) as info:
        await pd_adapter(pagerduty, key="WRONGKEY-secret-value-123").resolve("autonomic-abc")
    assert "HTTP 400" in str(info.value)
    assert "WRONGKEY-secret-value-123" not in str(info.value)


def test_severity_mapping() -> None:
    assert severity_of({"severity": "critical"}) == "critical"
    assert severity_of({"severity": "Warning"}) == "warning"
    assert severity_of({}) == "error"


# -- Notify / retry policy ---------------------------------------------------------------------


async def test_notify_sends_idempotency_key_and_retries(notify: NotifyFake) -> None:
    adapter = NotifyAdapter(
        httpx.AsyncClient(timeout=2), policy=FAST, user_url=f"{notify.url}/notify", token=NOTIFY_TOKEN
    )
    notify.fail_next(1, 503)
    await adapter.post(f"{notify.url}/notify", {"user_id": "u1"}, idempotency_key="ex-1:3")
    assert notify.notifications == [{"key": "ex-1:3", "user_id": "u1"}]
    with pytest.raises(PermanentError, match="HTTP 401"):
        await adapter.post(f"{notify.url}/other", {"x": 1}, idempotency_key="k")  # no token for others
    await adapter.client.aclose()


def test_retry_policy_honours_retry_after() -> None:
    from tenacity import RetryCallState

    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.attempt_number = 1
    state.set_exception((Retryable, Retryable("slow down", retry_after=7), None))
    assert RetryPolicy().wait(state) == 7
    state.set_exception((Retryable, Retryable("busy"), None))
    assert 0 <= RetryPolicy(base_delay=1, max_delay=10).wait(state) <= 1
