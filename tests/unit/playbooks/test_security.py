"""playbooks/security.py: tighten guards and limits, tell the security channel, page when critical."""

from __future__ import annotations

import pytest

from app.testing import PlaybookKit, alert


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("PIIDetectionSpike", {"safety.pii_redaction": "strict", "logging.prompts": "off"}),
        ("PromptInjectionAttempts", {"safety.prompt_guard": "strict", "ratelimit.factor": "0.5"}),
        ("FrequentRateLimits", {"ratelimit.factor": "0.5"}),
    ],
)
async def test_each_tightens_and_pages_only_when_critical(
    kit: PlaybookKit, name: str, flags: dict[str, str]
) -> None:
    quiet = await kit.send(alert(name, severity="warning"))
    assert quiet.flags == flags
    assert quiet.kinds == ["flags.set"] * len(flags) + ["slack.post"]
    assert quiet.actions[-1].target == "#security"
    loud = await kit.send(alert(name, severity="critical"))
    assert loud.kinds == ["flags.set"] * len(flags) + [
        "pagerduty.trigger",
        "slack.post",
    ]
