"""The built-in resolve: what every resolved alert undoes before its `on="resolved"` playbooks.

It is an ordinary playbook spec run through dispatch, so releasing leases, resolving the
incident and replying in the thread get the same records, retries and replay as any action.
"""

from __future__ import annotations

from app import matchers as matcher_syntax
from app.models import Alert
from app.plugins.context import Context
from app.plugins.messaging import RESOLVED_REPLY
from app.plugins.registry import PlaybookSpec

RESOLVE_PLAYBOOK = "autonomic.resolve"


async def _resolve(alert: Alert, ctx: Context) -> None:
    """Undo what is reversible: release the alert's flag leases, resolve its incident, reply in
    its Slack thread. Runs for every resolved alert before the `on="resolved"` playbooks."""
    held = await ctx.flags.held()
    if held:
        await ctx.flags.release_all(held)
    if await ctx.pagerduty.paged():
        await ctx.pagerduty.resolve()
    await ctx.slack.close_thread(RESOLVED_REPLY)


RESOLVE = PlaybookSpec(
    name=RESOLVE_PLAYBOOK,
    fn=_resolve,
    match='alertname=~".*"',
    matchers=matcher_syntax.parse('alertname=~".*"'),
    on="resolved",
    description=_resolve.__doc__ or "",
    source=__name__,
)
