"""Building the adapters from settings: configured ones exist, missing ones say why, secrets
are redacted, and closing releases their sessions."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from app.actions import outside
from app.settings import Settings
from tests.unit.conftest import fake_settings


async def test_nothing_configured_means_every_system_missing(aredis: Redis, tmp_path: Path) -> None:
    adapters = await outside.build(Settings(kubeconfig=tmp_path / "none"), aredis)
    assert adapters.kube is None and adapters.pagerduty is None and adapters.slack is None
    assert set(adapters.missing) == {"kube", "pagerduty", "slack", "notify.user"}
    assert adapters.notify is not None  # plain HTTP notifications need no credentials
    await adapters.close()


async def test_everything_configured(outside_env: dict[str, str], ns: str, aredis: Redis) -> None:
    settings = fake_settings(outside_env, ns, slack_channel="#ops", public_url="https://autonomic.example")
    adapters = await outside.build(settings, aredis)
    try:
        assert adapters.missing == {}
        assert adapters.kube is not None and adapters.kube.namespaces == {"llm"}
        assert (
            adapters.pagerduty is not None and adapters.slack is not None and adapters.slack.web is not None
        )
        assert (
            adapters.notify is not None
            and adapters.notify.user_url == outside_env["AUTONOMIC_NOTIFY_USER_URL"]
        )
        assert (adapters.slack_channel, adapters.public_url) == ("#ops", "https://autonomic.example")
        assert "notify-token" not in adapters.redact(f"sent {outside_env['AUTONOMIC_NOTIFY_TOKEN']}")
    finally:
        await adapters.close()
    assert adapters.notify.client.is_closed


async def test_a_webhook_url_gives_a_thread_less_slack(aredis: Redis, tmp_path: Path) -> None:
    settings = Settings(
        kubeconfig=tmp_path / "none", slack_webhook_url="https://hooks.slack.com/services/T/B/x"
    )  # type: ignore[arg-type]
    adapters = await outside.build(settings, aredis)
    assert adapters.slack is not None and adapters.slack.web is None and adapters.slack.webhook is not None
    await adapters.close()
