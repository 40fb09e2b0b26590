"""Build the adapters to outside systems from settings. A system without credentials gets no
adapter: its actions are then recorded as dry-run with a warning, and the service still runs."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from app.actions.guardrails import KubeBudget, Limits
from app.actions.kube import KubeAdapter
from app.actions.notify import NotifyAdapter
from app.actions.pagerduty import PagerDutyAdapter
from app.actions.redaction import Redactor
from app.actions.retry import RetryPolicy
from app.actions.slack import SlackAdapter
from app.keys import Keys
from app.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Adapters:
    """The configured adapters (None: not configured) and why each missing one is missing."""

    kube: KubeAdapter | None = None
    pagerduty: PagerDutyAdapter | None = None
    slack: SlackAdapter | None = None
    notify: NotifyAdapter | None = None
    missing: dict[str, str] = field(default_factory=dict)
    redact: Redactor = field(default_factory=Redactor)
    slack_channel: str = "#alerts"
    public_url: str | None = None

    async def connect(self, settings: Settings, budget: KubeBudget) -> None:
        """Set up what needs I/O first: the Kubernetes client (reading a kubeconfig may run
        its credential plugin), its writes spent from `budget`. Until then `kube` is missing
        as "not connected yet"."""
        api = await _kube_client(settings)
        if api is None:
            self.missing["kube"] = "no Kubernetes credentials (in-cluster or kubeconfig)"
        else:
            self.missing.pop("kube", None)
            self.kube = KubeAdapter(
                api,
                namespaces=settings.kube_namespaces,
                budget=budget,
                policy=_policy(settings),
                timeout=settings.action_timeout,
                max_pod_deletes=settings.kube_max_pod_deletes,
                require_opt_in=settings.kube_require_opt_in,
            )
        for system, reason in self.missing.items():
            log.warning("actions recorded as dry-run", system=system, reason=reason)

    async def close(self) -> None:
        """Release HTTP sessions."""
        if self.kube is not None:
            await self.kube.close()
        if self.notify is not None:
            await self.notify.client.aclose()
        if self.slack is not None and self.slack.web is not None and self.slack.web.session is not None:
            await self.slack.web.session.close()


async def _kube_client(settings: Settings) -> Any:
    from kubernetes.aio import client as kclient
    from kubernetes.aio import config as kconfig

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = kclient.Configuration()
        kconfig.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        return kclient.ApiClient(configuration)
    path = settings.kubeconfig or Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser()  # noqa: ASYNC240
    if not path.is_file():
        return None
    return await kconfig.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(path), context=settings.kube_context
    )


def _policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(settings.action_attempts, settings.action_retry_base, settings.action_retry_max)


def kube_budget(settings: Settings, redis: Redis) -> KubeBudget:
    """The Kubernetes write budgets (the guardrails) of `settings`."""
    limits = Limits(
        workload=settings.kube_restart_budget,
        namespace=settings.kube_namespace_budget,
        total=settings.kube_total_budget,
        window_s=settings.kube_budget_window,
    )
    return KubeBudget(redis, Keys(settings.redis_namespace), limits)


async def build(settings: Settings, redis: Redis) -> Adapters:
    """Construct every adapter that has credentials, connected; note the others."""
    adapters = configure(settings)
    await adapters.connect(settings, kube_budget(settings, redis))
    return adapters


def configure(settings: Settings) -> Adapters:
    """Construct every adapter that needs no I/O to set up (all but Kubernetes, which
    `Adapters.connect` adds); note the missing ones. Nothing is contacted here."""
    policy = _policy(settings)
    adapters = Adapters(
        redact=Redactor(settings.secret_values()),
        slack_channel=settings.slack_channel,
        public_url=settings.public_url,
        missing={"kube": "not connected yet"},
    )

    if settings.pagerduty_routing_key is not None:
        verify: ssl.SSLContext | bool = True
        if settings.pagerduty_ca_bundle is not None:
            verify = ssl.create_default_context(cafile=str(settings.pagerduty_ca_bundle))
        adapters.pagerduty = PagerDutyAdapter(
            settings.pagerduty_routing_key.get_secret_value(),
            policy=policy,
            events_url=settings.pagerduty_events_url,
            timeout=settings.action_timeout,
            verify=verify,
        )
    else:
        adapters.missing["pagerduty"] = "AUTONOMIC_PAGERDUTY_ROUTING_KEY is not set"

    timeout = int(max(1, settings.action_timeout))
    if settings.slack_token is not None:
        web = AsyncWebClient(
            token=settings.slack_token.get_secret_value(),
            base_url=settings.slack_base_url,
            timeout=timeout,
            retry_handlers=[],
        )
        adapters.slack = SlackAdapter(web=web, policy=policy)
    elif settings.slack_webhook_url is not None:
        hook = AsyncWebhookClient(
            settings.slack_webhook_url.get_secret_value(), timeout=timeout, retry_handlers=[]
        )
        adapters.slack = SlackAdapter(webhook=hook, policy=policy)
    else:
        adapters.missing["slack"] = "neither AUTONOMIC_SLACK_TOKEN nor AUTONOMIC_SLACK_WEBHOOK_URL is set"

    adapters.notify = NotifyAdapter(
        httpx.AsyncClient(timeout=settings.action_timeout, follow_redirects=False),
        policy=policy,
        user_url=settings.notify_user_url,
        token=settings.notify_token.get_secret_value() if settings.notify_token else None,
    )
    if settings.notify_user_url is None:
        adapters.missing["notify.user"] = "AUTONOMIC_NOTIFY_USER_URL is not set"

    return adapters
