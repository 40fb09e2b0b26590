"""Slack: one Block Kit message per execution, the resolved notification replying in its thread.

Uses slack_sdk's `AsyncWebClient` (bot token) or, as an alternative, an
incoming-webhook URL (no threads there: replies become new messages). Text
taken from alert labels and annotations is escaped so it cannot inject
markup, links or mentions. 429 Retry-After, 5xx and network errors are retried.

Every Web API message carries message metadata (`autonomic_action`, with the
action's idempotency key: execution id + action index), so a replica that
takes over an interrupted post can look the message up in the channel's
recent history instead of posting it twice (`find`). An incoming webhook
cannot be looked up: after an interrupted webhook post the message is not
sent again (at most once).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from app.actions.retry import Retryable, RetryPolicy, call, parse_retry_after, retryable_status
from app.errors import PermanentError

METADATA_EVENT = "autonomic_action"
_RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"}
)


def escape(text: str, limit: int = 2900) -> str:
    """Slack-escape `text` (`&`, `<`, `>`), so no link, mention or channel ping can be injected."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # `@here`-style words only ping with link_names, which we never set; keep them inert anyway.
    escaped = escaped.replace("@", "@\u200b")
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


@dataclass(frozen=True)
class Message:
    """What to post: fallback text and blocks."""

    text: str
    blocks: list[dict[str, Any]]


def build_message(
    *, title: str, text: str, status: str, labels: dict[str, str], actions: list[str], links: dict[str, str]
) -> Message:
    """A Block Kit message: header, the playbook's text, labels, what was done, links."""
    icon = ":rotating_light:" if status == "firing" else ":white_check_mark:"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{title} ({status})"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} {escape(text)}"}},
    ]
    if labels:
        shown = ", ".join(f"{escape(k, 100)}={escape(v, 200)}" for k, v in sorted(labels.items()))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": shown[:2900]}]})
    if actions:
        done = "\n".join(f"• {escape(a, 300)}" for a in actions[:20])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Done:*\n{done}"}})
    safe_links = [
        f"<{url}|{escape(name, 50)}>"
        for name, url in links.items()
        if url.startswith(("https://", "http://")) and not any(c in url for c in "<>| \n")
    ]
    if safe_links:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(safe_links)}]})
    # The fallback text is what notifications and old clients show: escaped like the blocks.
    return Message(text=f"{escape(title, 150)}: {escape(text)}"[:3000], blocks=blocks)


class OutcomeUnknown(PermanentError):
    """An interrupted call whose effect cannot be checked; it is not repeated (at most once)."""


def _classify(exc: BaseException) -> BaseException:
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 0)
        error = response.get("error", "") if hasattr(response, "get") else ""
        if status == 429 or error == "ratelimited":
            headers = getattr(response, "headers", {}) or {}
            return Retryable(
                f"slack rate limited ({error or status})",
                retry_after=parse_retry_after(headers.get("Retry-After")),
            )
        if error in _RETRYABLE_ERRORS:
            return Retryable(f"slack error {status} {error}")
        retry = retryable_status(status, f"slack error {status} {error}")
        if retry is not None:
            return retry
        return PermanentError(f"slack refused: {error or status}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | TimeoutError | OSError):
        return Retryable(f"slack unreachable: {type(exc).__name__}: {exc}")
    return exc


class SlackAdapter:
    """Posts and thread replies through a Web API client or an incoming webhook."""

    def __init__(
        self,
        *,
        web: AsyncWebClient | None = None,
        webhook: AsyncWebhookClient | None = None,
        policy: RetryPolicy,
    ) -> None:
        if web is None and webhook is None:
            raise ValueError("SlackAdapter needs a Web API client or a webhook client")
        self.web = web
        self.webhook = webhook
        self.policy = policy
        self._channel_ids: dict[str, str] = {}

    async def post(
        self, channel: str, message: Message, *, thread_ts: str | None = None, key: str = ""
    ) -> dict[str, Any]:
        """Post `message`; return the channel and message ts (for threading). `key` (the
        action's idempotency key) goes into the message metadata for `find`."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None

        async def once() -> dict[str, Any]:
            try:
                if self.web is not None:
                    response = await self.web.chat_postMessage(
                        channel=channel,
                        text=message.text,
                        blocks=message.blocks,
                        thread_ts=thread_ts,
                        unfurl_links=False,
                        unfurl_media=False,
                        metadata=metadata,
                    )
                    return {"channel": str(response["channel"]), "ts": str(response["ts"])}
                assert self.webhook is not None
                hook = await self.webhook.send(text=message.text, blocks=message.blocks)
                limited = hook.status_code == 429
                retry = retryable_status(
                    hook.status_code,
                    "slack webhook rate limited" if limited else f"slack webhook error {hook.status_code}",
                    hook.headers.get("Retry-After") if limited else None,
                )
                if retry is not None:
                    raise retry
                if hook.status_code >= 400:
                    raise PermanentError(f"slack webhook refused: {hook.status_code} {hook.body[:100]}")
                return {"channel": channel, "ts": None}
            except (Retryable, PermanentError):
                raise
            except Exception as exc:
                raise _classify(exc) from None

        return await call(self.policy, f"slack post to {channel}", once)

    async def find(
        self, channel: str, key: str, *, since: float, thread_ts: str | None = None
    ) -> dict[str, Any] | None:
        """The message an interrupted post with idempotency `key` left in `channel` (or in the
        thread `thread_ts`) since `since`, or None. Webhook mode: OutcomeUnknown."""
        if self.web is None:
            raise OutcomeUnknown(
                "slack webhook post was interrupted and cannot be checked; not repeated (at most once)"
            )
        web = self.web
        oldest = f"{max(0.0, since - 60):.6f}"  # clock skew between us and Slack

        async def once() -> dict[str, Any] | None:
            try:
                channel_id = await self._channel_id(web, channel)
                if thread_ts:
                    response = await web.conversations_replies(
                        channel=channel_id, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=200
                    )
                else:
                    response = await web.conversations_history(
                        channel=channel_id, oldest=oldest, include_all_metadata=True, limit=200
                    )
            except Exception as exc:
                raise _classify(exc) from None
            for item in response.get("messages") or []:
                meta = item.get("metadata") or {}
                if (
                    meta.get("event_type") == METADATA_EVENT
                    and (meta.get("event_payload") or {}).get("key") == key
                ):
                    return {"channel": channel, "ts": str(item["ts"]), "found_after_takeover": True}
            return None

        try:
            return await call(self.policy, f"slack history of {channel}", once)
        except PermanentError as exc:
            # The history cannot be read (Slack unreachable, a missing scope, an unknown
            # channel): the outcome is unknown, so the message is not posted a second time.
            raise OutcomeUnknown(f"interrupted slack post could not be checked: {exc}") from None

    async def _channel_id(self, web: AsyncWebClient, channel: str) -> str:
        """The ID of `#name` (reading history needs an ID; a post accepts either), found with
        `conversations.list` (scope channels:read, groups:read for private channels)."""
        name = channel.removeprefix("#")
        if not channel.startswith("#"):
            return channel
        if name not in self._channel_ids:
            cursor = ""
            while True:
                page = await web.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
                )
                for item in page.get("channels") or []:
                    self._channel_ids[str(item["name"])] = str(item["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
                if name in self._channel_ids or not cursor:
                    break
        if name not in self._channel_ids:
            raise PermanentError(f"slack channel {channel} not found by conversations.list")
        return self._channel_ids[name]
