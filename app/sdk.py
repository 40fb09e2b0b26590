"""The public API for playbook authors: import everything from here, nothing else is promised.

from app.sdk import Alert, Context, playbook

@playbook(match='alertname="CostSpike"', cooldown="15m")
async def cost_spike(alert: Alert, ctx: Context) -> None:
    await ctx.flags.set("llm.model_tier", "economy", ttl="2h")

`@playbook` checks its function against `PlaybookFn` (mypy rejects any other signature) and
takes every option as a keyword argument. Unit-test a playbook with `app.testing`.
"""

from app.actions.flags import name_part
from app.actions.kube import KINDS, Kind
from app.errors import GuardrailRefused, PermanentError, TemporaryError
from app.models import ActionRecord, Alert
from app.plugins.context import Context, Logger
from app.plugins.registry import On, PlaybookFn, Registry, playbook, use_registry

__all__ = [
    "KINDS",
    "ActionRecord",
    "Alert",
    "Context",
    "GuardrailRefused",
    "Kind",
    "Logger",
    "On",
    "PermanentError",
    "PlaybookFn",
    "Registry",
    "TemporaryError",
    "name_part",
    "playbook",
    "use_registry",
]
