"""How `autonomic simulate` prints a plan: one block per alert, each line fitted to the terminal.

Long lines (an action's parameters, an error) wrap between words under a hanging indent; a
word longer than the line (an id, a URL) stays whole. `--json` output is not shaped here.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from app.cli_output import out, say
from app.engine.resolve import RESOLVE_PLAYBOOK

EMBEDDED_RESOLVE = (
    "(releases the leases, incident and thread this alert holds; the embedded memory:// Redis"
    " holds no state of a running service, so there is nothing to show: set AUTONOMIC_REDIS_URL"
    " to the service's Redis to see what it would release)"
)
NOTHING_HELD = "(releases the leases, incident and thread this alert holds: it holds none now)"


def fitted(text: str, indent: int, hang: int | None = None) -> list[str]:
    """`text` wrapped to the terminal, first line indented by `indent`, the rest by `hang`."""
    hang = indent + 3 if hang is None else hang
    return textwrap.wrap(
        text,
        max(out.width, hang + 20),
        initial_indent=" " * indent,
        subsequent_indent=" " * hang,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [" " * indent]


def _state(plan: Any) -> str:
    if plan.error:
        return f"would fail: {plan.error}"
    if plan.skipped_reason:
        return f"would not run: {plan.skipped_reason}"
    return "would run"


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={json.dumps(params[key], default=str)}" for key in sorted(params))


def print_plans(results: list[dict[str, Any]], *, embedded_redis: bool) -> None:
    """Print each alert with the playbooks it would run and their actions."""
    for result in results:
        alert = result["alert"]
        say((alert.name or "(no alertname)", "bold"), f" {alert.status} {alert.fingerprint}")
        if not result["plans"]:
            say("  no playbook matches")
        for plan in result["plans"]:
            first, *rest = fitted(f"{plan.playbook}: {_state(plan)}", 2, 4)
            say("  ", (plan.playbook, "cyan"), first[2 + len(plan.playbook) :])
            for line in rest:
                say(line)
            if plan.playbook == RESOLVE_PLAYBOOK and not plan.actions:
                for line in fitted(EMBEDDED_RESOLVE if embedded_redis else NOTHING_HELD, 4, 5):
                    say(line)
            for action in plan.actions:
                text = f"{action.index}. {action.kind} {action.target} {_params(action.params)}"
                for line in fitted(text.rstrip(), 4, 7):
                    say(line)
