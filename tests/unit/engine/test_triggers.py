"""Triggers in queue entries, deterministic execution ids, operator lease holders."""

from __future__ import annotations

from app.engine.executions import valid_id
from app.engine.triggers import Trigger, execution_id, operator_holder


def test_execution_ids_are_deterministic_and_valid() -> None:
    assert execution_id("e", "pb") == execution_id("e", "pb")
    assert execution_id("e", "pb") != execution_id("e", "other")
    assert valid_id(execution_id("e", "pb"))


def test_operator_holders() -> None:
    assert operator_holder("alice") == "operator:alice"
    assert operator_holder("operator") == "operator"
    assert operator_holder(None) == "operator"
    assert operator_holder("  ") == "operator"


def test_a_trigger_survives_the_queue_entry() -> None:
    trigger = Trigger(
        source="manual", actor="alice", reason="why", dry_run=True, params={"n": 2}, state_only=True
    )
    assert Trigger.from_meta(trigger.to_meta()) == trigger
    assert Trigger.from_meta("{}") == Trigger()
