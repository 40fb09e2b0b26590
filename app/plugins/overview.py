"""How a playbook is shown to people: the one view that the API, the console and the CLI list.

Built here once so the three cannot drift: the description is the docstring's whole first
paragraph (a wrapped sentence joined back into one line, never its first physical line), and
durations are written the way operators write them (`10m`, not `600s`).
"""

from __future__ import annotations

from typing import Any

from app.durations import format_duration
from app.plugins.registry import PlaybookSpec


def summary(docstring: str) -> str:
    """The first paragraph of `docstring`, its lines joined by single spaces."""
    paragraph: list[str] = []
    for line in docstring.strip().splitlines():
        if not line.strip():
            break
        paragraph.append(line.strip())
    return " ".join(paragraph)


def playbook_view(spec: PlaybookSpec) -> dict[str, Any]:
    """`spec` as operators see it: seconds for programs (`*_s`), words for people."""
    return {
        "name": spec.name,
        "match": spec.match,
        "on": spec.on,
        "cooldown_s": spec.cooldown,
        "cooldown": format_duration(spec.cooldown) if spec.cooldown else None,
        "dry_run": spec.dry_run,
        "timeout_s": spec.timeout,
        "timeout": format_duration(spec.timeout) if spec.timeout else None,
        "description": summary(spec.description),
        "source": spec.source,
        "params_schema": spec.params.model_json_schema() if spec.params else None,
    }
