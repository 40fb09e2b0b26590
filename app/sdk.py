"""The public API for playbook authors: import everything from here, nothing else is promised.

from app.sdk import Alert, Context, playbook

@playbook(match='alertname="CostSpike"', cooldown="15m")
async def cost_spike(alert: Alert, ctx: Context) -> None:
    await ctx.flags.set("llm.model_tier", "economy", ttl="2h")
"""

from app.actions.flags import name_part
from app.errors import GuardrailRefused, PermanentError, TemporaryError
from app.models import ActionRecord, Alert
from app.plugins.context import Context
from app.plugins.registry import Registry, playbook, use_registry

__all__ = [
    "ActionRecord",
    "Alert",
    "Context",
    "GuardrailRefused",
    "PermanentError",
    "Registry",
    "TemporaryError",
    "name_part",
    "playbook",
    "use_registry",
]
