"""The few exceptions that decide what happens next to an execution or start-up.

Playbooks raise `TemporaryError` to be retried (after `delay` seconds if given)
and `PermanentError` to fail at once; actions refused by a guardrail raise
`GuardrailRefused`. Everything else of ours derives from `AutonomicError`.
"""

from __future__ import annotations


class AutonomicError(Exception):
    """Base of every error raised by Autonomic itself."""


class ConfigError(AutonomicError):
    """Settings are invalid or inconsistent."""


class PlaybookError(AutonomicError):
    """A playbook is malformed, duplicated or could not be loaded."""


class TemporaryError(AutonomicError):
    """A transient failure: retry the playbook, after `delay` seconds if given."""

    def __init__(self, message: str = "", *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(AutonomicError):
    """A failure that retrying cannot fix: fail the execution now."""


class GuardrailRefused(AutonomicError):
    """A guardrail refused an action; the action is recorded as refused."""


class AwaitingApproval(AutonomicError):
    """An action needs an operator's approval: the execution parks until a decision."""

    def __init__(self, index: int, description: str) -> None:
        super().__init__(f"awaiting approval: {description}")
        self.index = index
        self.description = description


class ApprovalRejected(PermanentError):
    """An operator (or the approval timeout) rejected a gated action."""
