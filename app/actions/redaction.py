"""Keep secrets out of logs, records and error messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PATTERNS = [
    re.compile(r"xox[abprs]-[A-Za-z0-9-]+"),  # Slack tokens
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),  # Slack incoming webhooks
    re.compile(r"(?i)(bearer|token|routing_key|api[_-]?key|password)([\"'=: ]+)([A-Za-z0-9._~+/-]{8,})"),
]


class Redactor:
    """Replaces known secret values and secret-looking patterns with `[redacted]`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in _PATTERNS:
            if pattern.groups == 3:
                text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
            else:
                text = pattern.sub("[redacted]", text)
        return text
