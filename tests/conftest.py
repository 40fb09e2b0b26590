"""Fixtures: a private namespace on the machine's Redis per test, services in subprocesses."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from tests.support.fakes import NotifyFake, PagerDutyFake, SlackFake, tls_pair
from tests.support.kube import KubeEmulator
from tests.support.procs import ROOT, Service

REDIS_URL = os.environ.get("AUTONOMIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# With a redis+cluster:// URL (tests/reliability/test_redis_ha.py runs suites that way) the
# fixtures talk to that cluster and every namespace carries a hash tag (one slot).
CLUSTER = REDIS_URL.startswith("redis+cluster://")


def sync_client(url: str = REDIS_URL) -> redis.Redis:
    """A decoding client for `url` (a RedisCluster for redis+cluster://, used alike)."""
    if url.startswith("redis+cluster://"):
        host, _, port = url.split("://", 1)[1].split(",")[0].rpartition(":")
        return redis.RedisCluster(host=host, port=int(port), decode_responses=True)  # type: ignore[return-value]
    return redis.Redis.from_url(url, decode_responses=True)


WEBHOOK_TOKEN = "test-webhook-token-0123456789"
OPERATOR_TOKEN = "test-operator-token-0123456789"
VIEWER_TOKEN = "test-viewer-token-0123456789"
# Named operators (AUTONOMIC_OPERATOR_TOKENS): what each does is recorded under the name.
NAMED_OPERATORS = {n: f"test-{n}-operator-token-0123456789" for n in ("alice", "bob", "carol", "dana")}
NAMED_OPERATOR_TOKENS = ",".join(f"{name}:{token}" for name, token in NAMED_OPERATORS.items())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


TEST_PLAYBOOKS = ROOT / "tests" / "playbooks"


@pytest.fixture
def ns() -> Iterator[str]:
    """A fresh key namespace on the shared Redis, deleted afterwards."""
    tag = f"test-{uuid.uuid4().hex[:10]}"
    prefix = f"{{{tag}}}:" if CLUSTER else f"{tag}:"
    yield prefix
    drop_namespace(prefix)


def drop_namespace(prefix: str) -> None:
    """Delete every key under `prefix` on the shared Redis."""
    client = sync_client()
    try:
        keys = list(client.scan_iter(match=prefix.replace("{", "\\{").replace("}", "\\}") + "*", count=1000))
        for key in keys:  # one by one: keys of a cluster may not share a slot
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def flag_prefix(ns: str) -> str:
    return f"{ns}flags:"


@pytest.fixture
def sync_redis() -> Iterator[redis.Redis]:
    client = sync_client()
    yield client
    client.close()


@pytest.fixture
async def aredis() -> AsyncIterator[aioredis.Redis]:
    if CLUSTER:
        host, _, port = REDIS_URL.split("://", 1)[1].split(",")[0].rpartition(":")
        cluster: aioredis.Redis = aioredis.RedisCluster(host=host, port=int(port), decode_responses=True)  # type: ignore[assignment]
        await cluster.initialize()  # type: ignore[attr-defined]  # its pubsub needs the slot map
        yield cluster
        await cluster.aclose()
        return
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


def service_env(ns: str, **extra: str) -> dict[str, str]:
    env = {
        "AUTONOMIC_REDIS_URL": REDIS_URL,
        "AUTONOMIC_REDIS_NAMESPACE": ns,
        "AUTONOMIC_FLAG_PREFIX": f"{ns}flags:",
        "AUTONOMIC_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "AUTONOMIC_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "AUTONOMIC_LOG_LEVEL": "info",
        "AUTONOMIC_CLAIM_IDLE": "1s",
        "AUTONOMIC_PLAYBOOK_ENTRY_POINTS": "false",
        "TEST_REDIS_URL": REDIS_URL,
        "TEST_NS": ns,
    }
    env.update(extra)
    return env


@pytest.fixture
def start_service(ns: str) -> Iterator[Callable[..., Service]]:
    """Start `autonomic serve` subprocesses on this test's namespace; all stopped afterwards."""
    started: list[Service] = []

    def start(*, wait_ready: bool = True, name: str = "svc", **env: str) -> Service:
        service = Service(service_env(ns, **env), name=name)
        started.append(service)
        return service.start(wait_ready=wait_ready)

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def test_playbooks() -> Path:
    return TEST_PLAYBOOKS


SLACK_TOKEN = "xoxb-test-0000-slack-token"
PD_ROUTING_KEY = "R0UT1NGKEY0000000000000000000000"
NOTIFY_TOKEN = "notify-token-0123456789"


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    fake = SlackFake(SLACK_TOKEN)
    yield fake
    fake.stop()


@pytest.fixture
def pagerduty(tmp_path: Path) -> Iterator[PagerDutyFake]:
    context, bundle = tls_pair(tmp_path)
    fake = PagerDutyFake(PD_ROUTING_KEY, context)
    fake.ca_bundle = bundle  # type: ignore[attr-defined]
    yield fake
    fake.stop()


@pytest.fixture
def notify() -> Iterator[NotifyFake]:
    fake = NotifyFake(NOTIFY_TOKEN)
    yield fake
    fake.stop()


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    emulator = KubeEmulator()
    yield emulator
    emulator.stop()


@pytest.fixture
def outside_env(
    slack: SlackFake, pagerduty: PagerDutyFake, notify: NotifyFake, kube: KubeEmulator, tmp_path: Path
) -> dict[str, str]:
    """Settings pointing every adapter at its fake, with quick retries."""
    return {
        "AUTONOMIC_SLACK_TOKEN": SLACK_TOKEN,
        "AUTONOMIC_SLACK_BASE_URL": f"{slack.url}/api/",
        "AUTONOMIC_PAGERDUTY_ROUTING_KEY": PD_ROUTING_KEY,
        "AUTONOMIC_PAGERDUTY_EVENTS_URL": pagerduty.url,
        "AUTONOMIC_PAGERDUTY_CA_BUNDLE": str(pagerduty.ca_bundle),  # type: ignore[attr-defined]
        "AUTONOMIC_NOTIFY_USER_URL": f"{notify.url}/notify",
        "AUTONOMIC_NOTIFY_TOKEN": NOTIFY_TOKEN,
        "AUTONOMIC_KUBECONFIG": str(kube.kubeconfig(tmp_path)),
        "AUTONOMIC_KUBE_NAMESPACES": "llm",
        "AUTONOMIC_ACTION_RETRY_BASE": "10ms",
        "AUTONOMIC_ACTION_RETRY_MAX": "50ms",
        "AUTONOMIC_ACTION_TIMEOUT": "2s",
    }
