"""`ctx.slack` and `ctx.notify` against the local Slack and notification fakes: one thread per
alert, replies in it, a new thread after the resolve, best-effort failures, idempotency keys."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from app.actions.outside import Adapters
from app.keys import Keys
from app.plugins.messaging import NotifyActions, SlackActions
from app.plugins.recorder import Recorder
from tests.support.fakes import NotifyFake, SlackFake
from tests.unit.conftest import make_alert


def _parts(
    adapters: Adapters, redis: Redis, ns: str, status: str = "firing", tombstone: str = ""
) -> dict[str, Any]:
    recorder = Recorder(dry_run=False, paused=False, completed={}, persist=None, execution_id="ex-t")
    alert = make_alert(status=status)
    return {
        "recorder": recorder,
        "alert": alert,
        "adapters": adapters,
        "redis": redis,
        "keys": Keys(ns),
        "tombstone": tombstone,
    }


async def test_posts_open_a_thread_that_replies_use(
    adapters: Adapters, slack: SlackFake, aredis: Redis, ns: str
) -> None:
    firing = SlackActions(**_parts(adapters, aredis, ns))
    assert not await firing.has_thread()
    posted = await firing.post(None, "latency up")
    assert posted.status == "ok" and posted.target == "#alerts" and await firing.has_thread()
    await firing.reply("still up")
    resolved = SlackActions(**_parts(adapters, aredis, ns, status="resolved"))
    await resolved.reply("resolved")
    (top,) = slack.top_level()
    assert [m["thread_ts"] for m in slack.replies()] == [top["ts"], top["ts"]]
    assert not await resolved.has_thread()  # the next episode starts a new thread


async def test_a_thread_opened_after_the_resolve_looked_gets_the_resolved_reply(
    adapters: Adapters, slack: SlackFake, aredis: Redis, ns: str
) -> None:
    tombstone = Keys(ns).resolved("fp1", make_alert().episode)
    firing = SlackActions(**_parts(adapters, aredis, ns, tombstone=tombstone))
    slack.hold.clear()
    posting = asyncio.create_task(firing.post(None, "latency up"))
    assert await asyncio.to_thread(slack.held.wait, 10)
    await aredis.set(tombstone, "1")
    assert not await firing.has_thread()  # the resolve finds no thread to reply in
    slack.hold.set()
    posted = await posting
    assert posted.status == "ok" and posted.result["resolved"] == "the alert resolved while it was posted"
    (top,) = slack.top_level()
    (reply,) = slack.replies()
    assert reply["thread_ts"] == top["ts"] and "Resolved: mitigations released." in reply["text"]
    assert not await firing.has_thread()  # the next episode starts a new thread


async def test_closing_a_thread_replies_once_and_ends_it(
    adapters: Adapters, slack: SlackFake, aredis: Redis, ns: str
) -> None:
    firing = SlackActions(**_parts(adapters, aredis, ns))
    await firing.post(None, "latency up")
    resolved = SlackActions(**_parts(adapters, aredis, ns, status="resolved"))
    closed = await resolved.close_thread("Resolved: mitigations released.")
    assert closed is not None and closed.status == "ok"
    (top,) = slack.top_level()
    (reply,) = slack.replies()
    assert reply["thread_ts"] == top["ts"] and not await resolved.has_thread()
    assert await resolved.close_thread("again") is None and len(slack.messages) == 2


async def test_a_thread_claimed_by_the_post_that_opened_it_is_not_replied_to_twice(
    adapters: Adapters, slack: SlackFake, aredis: Redis, ns: str
) -> None:
    firing = SlackActions(**_parts(adapters, aredis, ns))
    await firing.post(None, "latency up")
    (top,) = slack.top_level()
    # The late post claimed the thread first (its action key), then this resolve reads it.
    await aredis.set(Keys(ns).thread_closer("fp1", top["ts"]), "ex-firing:3")
    resolved = SlackActions(**_parts(adapters, aredis, ns, status="resolved"))
    closed = await resolved.close_thread("Resolved: mitigations released.")
    assert closed is not None and closed.result == {"replied": "by the post that opened the thread"}
    assert slack.replies() == []


async def test_a_resumed_close_keeps_its_claim_and_replies(
    adapters: Adapters, slack: SlackFake, aredis: Redis, ns: str
) -> None:
    firing = SlackActions(**_parts(adapters, aredis, ns))
    await firing.post(None, "latency up")
    (top,) = slack.top_level()
    # An earlier try of this very action (execution ex-t, index 0) claimed it, then stopped.
    await aredis.set(Keys(ns).thread_closer("fp1", top["ts"]), "ex-t:0")
    resolved = SlackActions(**_parts(adapters, aredis, ns, status="resolved"))
    closed = await resolved.close_thread("Resolved: mitigations released.")
    assert closed is not None and closed.status == "ok"
    (reply,) = slack.replies()
    assert reply["thread_ts"] == top["ts"] and not await resolved.has_thread()


async def test_a_failed_post_is_recorded_and_does_not_raise(
    adapters: Adapters, slack: SlackFake, aredis: Redis, ns: str
) -> None:
    slack.missing.add("#nowhere")
    record = await SlackActions(**_parts(adapters, aredis, ns)).post("#nowhere", "hello")
    assert record.status == "failed" and "channel_not_found" in (record.error or "")
    with pytest.raises(Exception, match="channel_not_found"):
        await SlackActions(**_parts(adapters, aredis, ns)).post("#nowhere", "hello", best_effort=False)


async def test_user_notifications_carry_the_idempotency_key(
    adapters: Adapters, notify: NotifyFake, aredis: Redis, ns: str
) -> None:
    facade = NotifyActions(**_parts(adapters, aredis, ns))
    record = await facade.user("u1", "degraded", "answers are slower")
    assert record.status == "ok" and record.result == {"status": 202}
    (note,) = notify.delivered
    assert note["key"] == "ex-t:0" and note["user_id"] == "u1" and note["alert"] == "HighLatency"


async def test_notify_user_without_an_endpoint_is_a_dry_run(aredis: Redis, ns: str) -> None:
    adapters = Adapters(missing={"notify.user": "AUTONOMIC_NOTIFY_USER_URL is not set"})
    record = await NotifyActions(**_parts(adapters, aredis, ns)).user("u1", "k", "m")
    assert record.status == "dry_run" and "NOTIFY_USER_URL" in (record.reason or "")
