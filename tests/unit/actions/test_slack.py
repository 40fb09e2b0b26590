"""The Slack adapter against the local Web API fake: messages that cannot ping or inject links,
thread replies, finding an interrupted post by its idempotency key, and errors classified."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.actions.retry import RetryPolicy
from app.actions.slack import OutcomeUnknown, SlackAdapter, build_message, escape
from app.errors import PermanentError
from tests.conftest import SLACK_TOKEN
from tests.support.fakes import SlackFake

POLICY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


def _adapter(slack: SlackFake) -> SlackAdapter:
    web = AsyncWebClient(token=SLACK_TOKEN, base_url=f"{slack.url}/api/", timeout=2, retry_handlers=[])
    return SlackAdapter(web=web, policy=POLICY)


def test_text_is_escaped_and_bounded() -> None:
    assert escape("<!here> & @channel") == "&lt;!here&gt; &amp; @\u200bchannel"
    assert len(escape("x" * 5000)) == 2900 and escape("x" * 5000).endswith("…")


def test_messages_keep_only_safe_links() -> None:
    message = build_message(
        title="HighLatency",
        text="p99 up",
        status="firing",
        labels={"service": "api"},
        actions=["flags.set llm.mode (ok)"],
        links={"Runbook": "https://runbooks/x", "Evil": "javascript:alert(1)", "Pipe": "https://a|b"},
    )
    text = str(message.blocks)
    assert "<https://runbooks/x|Runbook>" in text and "javascript" not in text and "a|b" not in text
    assert message.text == "HighLatency: p99 up"
    assert message.blocks[0]["text"]["text"] == "HighLatency (firing)"


async def test_post_reply_and_find_by_key(slack: SlackFake) -> None:
    adapter = _adapter(slack)
    message = build_message(title="A", text="t", status="firing", labels={}, actions=[], links={})
    top = await adapter.post("#alerts", message, key="ex-1:0")
    reply = await adapter.post("#alerts", message, thread_ts=top["ts"], key="ex-1:1")
    assert slack.replies()[0]["thread_ts"] == top["ts"]
    found = await adapter.find("#alerts", "ex-1:1", since=0, thread_ts=top["ts"])
    assert found == {"channel": "#alerts", "ts": reply["ts"], "found_after_takeover": True}
    assert await adapter.find("#alerts", "ex-9:0", since=0) is None


async def test_errors_are_classified(slack: SlackFake) -> None:
    adapter = _adapter(slack)
    message = build_message(title="A", text="t", status="firing", labels={}, actions=[], links={})
    slack.missing.add("#gone")
    with pytest.raises(PermanentError, match="channel_not_found"):
        await adapter.post("#gone", message)
    slack.fail_next(1, 503)
    assert (await adapter.post("#alerts", message))["ts"]  # retried
    with pytest.raises(OutcomeUnknown, match="could not be checked"):
        await adapter.find("#never-posted", "k", since=0)


def test_an_adapter_needs_a_client() -> None:
    with pytest.raises(ValueError, match="needs a Web API client or a webhook"):
        SlackAdapter(policy=POLICY)
