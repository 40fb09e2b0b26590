"""What `ctx.slack` and `ctx.notify` do for a playbook: notifications, best-effort by default
(a failure is recorded and the playbook goes on, so a message can never stop a page).

Both are write-ahead like every side effect (see recorder.py); an interrupted
Slack post is looked up by its message metadata before it is posted again, an
interrupted HTTP notification is sent again under the same Idempotency-Key.
One Slack message per execution; replies land in the alert's thread, kept in Redis.
A post that opens a thread after its alert resolved (the resolve looked for the thread
before it existed) replies in it itself, so that thread still says the alert resolved; the
resolve and such a post both claim the thread (`Keys.thread_closer`) before replying, so at
most one replies, and a claim survives an interruption of the action that holds it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.actions.slack import Message, build_message
from app.models import ActionRecord
from app.plugins.facades import STATE_TTL_S, SystemFacade

RESOLVED_REPLY = "Resolved: mitigations released."
# A thread's closer is only contended while its alert's resolve and firing run overlap.
CLOSER_TTL_S = 86400


class SlackActions(SystemFacade):
    """`ctx.slack`: one Block Kit message per execution; replies land in the alert's thread."""

    system = "slack"

    def _links(self) -> dict[str, str]:
        alert, links = self._alert, {}
        if alert.generator_url:
            links["Source"] = alert.generator_url
        if alert.annotations.get("runbook_url"):
            links["Runbook"] = alert.annotations["runbook_url"]
        if self._adapters.public_url:
            links["Autonomic"] = (
                f"{self._adapters.public_url.rstrip('/')}/ui/executions/{self._recorder.execution_id}"
            )
        return links

    async def post(self, channel: str | None, text: str, *, best_effort: bool = True) -> ActionRecord:
        """Post `text` with the alert, what this execution has done so far, and links.
        Best-effort by default: a Slack failure is recorded and the playbook goes on."""
        alert, slack = self._alert, self._adapters.slack
        channel = channel or self._adapters.slack_channel
        done = [f"{r.kind} {r.target} ({r.status})" for r in self._recorder.records]
        message = build_message(
            title=alert.name or "alert",
            text=text,
            status=alert.status,
            labels=alert.labels,
            actions=done,
            links=self._links(),
        )

        async def remember(result: dict[str, Any], thread: dict[str, str] | None, key: str) -> dict[str, Any]:
            if not result.get("ts") or (thread is not None and thread.get("ts") != result["ts"]):
                return result  # no thread to keep, or a message in an earlier post's thread
            where = self._keys.thread(alert.fingerprint)
            if thread is None:  # (else this post's own thread, found again after an interruption)
                await self._redis.set(where, msgspec.json.encode(result), ex=STATE_TTL_S)
            # The resolve may have looked for the thread before the line above: then this
            # replies "Resolved", unless the resolve claimed the thread first (close_thread).
            if not await self._episode_resolved():
                return result
            if not await self._claim(result["ts"], key):
                await self._redis.delete(where)  # closed (or being closed) by the resolve
                return result
            closing = await self._reply_resolved(result, key)
            await self._redis.delete(where)
            return {**result, **closing}

        async def in_thread() -> tuple[dict[str, str] | None, str | None]:
            thread = await self._thread()
            return thread, thread["ts"] if thread and thread["channel"] == channel else None

        async def act(key: str) -> Any:
            assert slack is not None
            thread, ts = await in_thread()
            return await remember(await slack.post(channel, message, thread_ts=ts, key=key), thread, key)

        async def resolve(key: str, intent: ActionRecord) -> Any:
            assert slack is not None
            thread, ts = await in_thread()
            found = await slack.find(channel, key, since=intent.started_at, thread_ts=ts)
            return await remember(found, thread, key) if found is not None else None

        return await self._recorder.run(
            "slack.post",
            channel,
            {"text": text},
            act,
            unavailable=self._unavailable(),
            resolve=resolve,
            best_effort=best_effort,
        )

    async def reply(self, text: str, *, best_effort: bool = True) -> ActionRecord:
        """Reply in this alert's thread (a new message when there is none); best-effort by default."""
        slack = self._adapters.slack
        thread = await self._thread()
        channel = thread["channel"] if thread else self._adapters.slack_channel
        message = self._reply_message(text, self._alert.status)

        async def done(result: dict[str, Any]) -> dict[str, Any]:
            if self._alert.status == "resolved":  # the next episode starts a new thread
                await self._redis.delete(self._keys.thread(self._alert.fingerprint))
            return result

        async def act(key: str) -> Any:
            assert slack is not None
            return await done(
                await slack.post(channel, message, thread_ts=thread["ts"] if thread else None, key=key)
            )

        async def resolve(key: str, intent: ActionRecord) -> Any:
            assert slack is not None
            ts = thread["ts"] if thread else None
            found = await slack.find(channel, key, since=intent.started_at, thread_ts=ts)
            return await done(found) if found is not None else None

        return await self._recorder.run(
            "slack.reply",
            channel,
            {"text": text},
            act,
            unavailable=self._unavailable(),
            resolve=resolve,
            best_effort=best_effort,
        )

    async def close_thread(self, text: str, *, best_effort: bool = True) -> ActionRecord | None:
        """Reply `text` in this alert's thread and end the thread (the next episode starts a new
        one); None when the alert has no thread. Call it last: it takes an action index only
        while a thread exists. Of this and a post that opened the thread after its alert
        resolved, the first to claim the thread replies; the record says when the other did."""
        slack, where = self._adapters.slack, self._keys.thread(self._alert.fingerprint)
        thread = await self._thread()
        if thread is None:
            return None
        message = self._reply_message(text, self._alert.status)

        async def act(key: str) -> Any:
            assert slack is not None
            if not await self._claim(thread["ts"], key):
                return {"replied": "by the post that opened the thread"}
            result = await slack.post(thread["channel"], message, thread_ts=thread["ts"], key=key)
            await self._redis.delete(where)
            return result

        async def resolve(key: str, intent: ActionRecord) -> Any:
            assert slack is not None
            found = await slack.find(thread["channel"], key, since=intent.started_at, thread_ts=thread["ts"])
            if found is not None:
                await self._redis.delete(where)
            return found

        return await self._recorder.run(
            "slack.reply",
            thread["channel"],
            {"text": text},
            act,
            unavailable=self._unavailable(),
            resolve=resolve,
            best_effort=best_effort,
        )

    async def _claim(self, ts: str, key: str) -> bool:
        """True if the action `key` is the one to reply "Resolved" in thread `ts`: the first to
        claim it, or that same action resumed after an interruption."""
        closer = self._keys.thread_closer(self._alert.fingerprint, ts)
        if await self._redis.set(closer, key, nx=True, ex=CLOSER_TTL_S):
            return True
        held = await self._redis.get(closer)
        return (held.decode() if isinstance(held, bytes) else held) == key

    async def _reply_resolved(self, thread: dict[str, Any], key: str) -> dict[str, str]:
        """Reply in a thread opened after its alert resolved; what to add to the post's result
        (a failed reply is noted there: the post itself succeeded)."""
        slack = self._adapters.slack
        assert slack is not None
        closing = self._reply_message(RESOLVED_REPLY, "resolved")
        try:
            await slack.post(thread["channel"], closing, thread_ts=thread["ts"], key=f"{key}:resolved")
        except Exception as exc:
            return {"resolved_reply_failed": self._adapters.redact(str(exc))}
        return {"resolved": "the alert resolved while it was posted"}

    def _reply_message(self, text: str, status: str) -> Message:
        """A reply in the alert's thread: its name and `text`, no labels, actions or links."""
        return build_message(
            title=self._alert.name or "alert", text=text, status=status, labels={}, actions=[], links={}
        )

    async def _thread(self) -> dict[str, str] | None:
        raw = await self._redis.get(self._keys.thread(self._alert.fingerprint))
        return msgspec.json.decode(raw) if raw else None

    async def has_thread(self) -> bool:
        """True if a message about this alert was posted (so a resolve can reply to it)."""
        return bool(await self._redis.exists(self._keys.thread(self._alert.fingerprint)))


class NotifyActions(SystemFacade):
    """`ctx.notify`: outbound HTTP notifications."""

    system = "notify"

    async def post(self, url: str, payload: dict[str, Any], *, best_effort: bool = True) -> ActionRecord:
        """POST `payload` as JSON to `url` (with an Idempotency-Key header, so a repeat after a
        takeover is dropped by the receiver). Best-effort by default."""
        notify = self._adapters.notify

        async def act(key: str) -> Any:
            assert notify is not None
            return await notify.post(url, payload, idempotency_key=key)

        return await self._recorder.run(
            "notify.post",
            url,
            {"payload": payload},
            act,
            unavailable=self._unavailable(),
            best_effort=best_effort,
        )

    async def user(self, user_id: str, kind: str, message: str, *, best_effort: bool = True) -> ActionRecord:
        """Tell one end user something through the application's notification endpoint
        (Idempotency-Key header; best-effort by default)."""
        notify = self._adapters.notify
        missing = self._adapters.missing.get("notify.user")
        payload = {"user_id": user_id, "kind": kind, "message": message, "alert": self._alert.name}

        async def act(key: str) -> Any:
            assert notify is not None and notify.user_url is not None
            return await notify.post(notify.user_url, payload, idempotency_key=key)

        return await self._recorder.run(
            "notify.user",
            user_id,
            {"kind": kind, "message": message},
            act,
            unavailable=f"notify.user not configured: {missing}" if missing else None,
            best_effort=best_effort,
        )
