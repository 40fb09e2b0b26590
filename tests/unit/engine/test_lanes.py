"""Lane routing and the read order that keeps the normal lane from starving."""

from __future__ import annotations

import pytest

from app.engine.lanes import HIGH, LANES, NORMAL, LanePolicy


def test_critical_and_page_alerts_take_the_high_lane() -> None:
    policy = LanePolicy()
    assert policy.lane({"severity": "critical"}) == HIGH
    assert policy.lane({"severity": "page"}) == HIGH
    assert policy.lane({"severity": "warning"}) == NORMAL
    assert LanePolicy(high_match="").lane({"severity": "critical"}) == NORMAL
    assert LanePolicy(high_match='team="db"').lane({"team": "db"}) == HIGH


def test_the_normal_lane_gets_one_read_in_share() -> None:
    policy = LanePolicy(share=3)
    orders = []
    for _ in range(6):
        order = policy.order()
        orders.append(order[0])
        policy.served(order[0])
    assert orders == [HIGH, HIGH, NORMAL, HIGH, HIGH, NORMAL]
    policy.served(NORMAL)
    assert policy.order() == LANES


def test_share_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        LanePolicy(share=1)
