"""Secrets never reach logs or records: configured values and secret-looking patterns."""

from __future__ import annotations

from app.actions.redaction import Redactor


def test_configured_secrets_and_patterns_are_redacted() -> None:
    redact = Redactor(["s3cr3t-value", None, "abc"])  # too short to redact safely: kept
    assert redact("failed with s3cr3t-value and abc") == "failed with [redacted] and abc"
    assert redact("xoxb-123-abc") == "[redacted]"
    assert redact("https://hooks.slack.com/services/T0/B0/xyz") == "[redacted]"
    assert redact("Authorization: Bearer abcdefgh12345") == "Authorization: Bearer [redacted]"
    assert redact("password=hunter2hunter2") == "password=[redacted]"
    assert redact("token=short") == "token=short"  # fewer than 8 characters: not a secret shape
