"""The flag-change stream read back as changes and as leased periods."""

from __future__ import annotations

from redis.asyncio import Redis

from app.actions.flag_history import Change, FlagHistory, Period, periods_of


def test_periods_open_and_close_with_changes() -> None:
    opening = {"a": Change("a", "on", "alert:x", "set", 50.0), "b": Change("b", None, "", "released", 40.0)}
    changes = [
        Change("a", "off", "", "released", 110.0),
        Change("b", "on", "alert:y", "set", 120.0),
        Change("a", "on", "operator", "set", 130.0),
    ]
    assert periods_of(opening, changes, since=100.0) == [
        Period("a", "on", "alert:x", 100.0, 110.0),  # clipped to the window
        Period("a", "on", "operator", 130.0, None),
        Period("b", "on", "alert:y", 120.0, None),
    ]


async def test_changes_and_the_state_before_a_moment(aredis: Redis, ns: str) -> None:
    key = f"{ns}flag-history"
    for at, flag, value, held in [(1000, "a", "on", "alert:x"), (2000, "a", "", ""), (3000, "b", "v", "h")]:
        fields = {"flag": flag, "value": value, "held": held, "reason": "set", "at": at}
        if not value:
            fields["absent"] = "1"
        await aredis.xadd(key, fields, id=f"{at}-0")
    await aredis.xadd(key, {"garbage": "1"}, id="3500-0")
    history = FlagHistory(aredis, key)
    assert [(c.flag, c.value) for c in await history.changes(1.5)] == [("a", None), ("b", "v")]
    before = await history.before(2.5)
    assert before["a"].value is None and "b" not in before
    periods, changes = await history.periods(0.5, 4.0)
    assert [(p.flag, p.start, p.end) for p in periods] == [("a", 1.0, 2.0), ("b", 3.0, None)]
    assert len(changes) == 3
