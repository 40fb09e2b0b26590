"""The web console at /ui: active mitigations, executions, playbooks, approvals and jobs.

Server-rendered (Jinja templates) with a little plain JavaScript that refreshes
the sections every few seconds. Log in with a token's name and the token
(operator or viewer); the session is an HttpOnly cookie bound to that token
(app/web/session.py); logins are throttled (app/web/throttle.py); every form
carries a CSRF token and every page strict security headers
(app/web/console_guard.py); only an operator may act, and what they do is
recorded under the token's name. Status messages are fixed codes, never text
taken from the URL.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.static_files import create_static_files_router

from app.actions.flags import InvalidFlagName
from app.engine.approvals import Decision
from app.plugins.overview import playbook_view
from app.web import auth, finding, limits, live, operations, readable, session, timeline_svg
from app.web import pause as pause_api
from app.web.console_guard import secure_request
from app.web.deps import RuntimeDep, runtime_of
from app.web.holders import history, holders
from app.web.proxy import client_address, proxy_identity
from app.web.throttle import LoginThrottle

# The console's CSS and JavaScript as files (never inline), so a strict CSP can forbid inline code.
STATIC = create_static_files_router(
    path="/ui/static", directories=[Path(__file__).parent / "static"], include_in_schema=False
)

# Every message the console shows; the URL carries only the code and an id-shaped subject.
MESSAGES = {
    "reverted": "reverted {subject}: its leases ended and the baseline is back",
    "approved": "approved {subject}",
    "rejected": "rejected {subject}",
    "queued": "queued a run of {subject}",
    "queued-dry-run": "queued a dry-run of {subject}",
    "no-lease": "{subject} has no active lease",
    "not-waiting": "{subject} is not waiting for approval",
    "unknown-playbook": "there is no playbook {subject}",
    "unknown-decision": "unknown decision",
    "bad-params": "invalid params for {subject}: give a JSON object the playbook accepts",
    "invalid": "invalid name or token",
    "throttled": "too many failed logins; wait a few minutes",
    "paused": "paused: no new action runs until resumed",
    "resumed": "resumed: alerts refused while paused are mitigated again",
    "bad-pause": "not paused: give a reason (1 to 500 printable characters) and a positive duration or none",
    "expired": "your session ended (expired, or its token changed); log in again",
}
_SUBJECT = re.compile(r"[A-Za-z0-9_.:@+-]{1,200}")


def message(code: str | None, subject: str | None) -> str | None:
    """The fixed text for a message code (None for an unknown code)."""
    template = MESSAGES.get(code or "")
    if template is None:
        return None
    shown = subject if subject and _SUBJECT.fullmatch(subject) else "it"
    return template.format(subject=shown)


async def _session(request: Request[Any, Any, Any]) -> session.Session | None:
    ring = await runtime_of(request).keyring.get()
    return session.read(ring, auth.credentials_of(request), request.cookies.get(session.COOKIE))


async def _require(request: Request[Any, Any, Any], operator: bool = False) -> session.Session:
    current = await _session(request)
    if current is None:
        auth.failed(request, "session")
        raise NotAuthorizedException("log in at /ui/login")
    if operator and current.role != "operator":
        auth.failed(request, "forbidden")
        raise PermissionDeniedException("the viewer token may not change anything")
    return current


def _actor(request: Request[Any, Any, Any], current: session.Session) -> str:
    return auth.actor_of(request, current.actor)


def _back(code: str, subject: str | None = None, ok: bool = True) -> Redirect:
    query = {"ok" if ok else "error": code, **({"subject": subject} if subject else {})}
    return Redirect(f"/ui?{urlencode(query)}")


_ago = readable.ago
# What templates get to format records (app/web/readable.py).
_FORMATS: dict[str, Any] = {
    "ago": readable.ago,
    "iso": readable.iso,
    "pretty": readable.pretty,
    "duration_ms": readable.duration_ms,
}


class ConsoleController(Controller):
    """Pages and form posts of the console."""

    path = "/ui"
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any]) -> Template:
        return Template("login.html", context={"error": message(request.query_params.get("error"), None)})

    @post("/login")
    async def login(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
    ) -> Response[Any]:
        name = "".join(c for c in data.get("name", "") if c.isprintable()).strip()[:64]
        address = client_address(request)
        throttle = LoginThrottle(runtime.clients.commands, runtime.keys)
        wait = await throttle.wait(address, name)
        if wait:
            auth.failed(request, "throttled")
            return Template(
                "login.html",
                context={"error": MESSAGES["throttled"]},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        credential = auth.credentials_of(request).identify(data.get("token", "").strip().encode())
        if credential is None or credential.role not in ("viewer", "operator") or credential.name != name:
            await throttle.failed(address, name)
            auth.failed(request, "invalid")
            return Redirect("/ui/login?error=invalid")
        ring = await runtime.keyring.get()
        actor = proxy_identity(request, runtime.settings) or credential.name
        cookie = Cookie(
            key=session.COOKIE,
            value=session.issue(ring, credential, actor),
            httponly=True,
            samesite="strict",
            path="/ui",
            max_age=session.LIFETIME_S,
            secure=secure_request(request.scope),
        )
        return Redirect("/ui", cookies=[cookie])

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        cookie = Cookie(
            key=session.COOKIE, value="", max_age=0, path="/ui", secure=secure_request(request.scope)
        )
        return Redirect("/ui/login", cookies=[cookie])

    @get("/")
    async def dashboard(self, runtime: RuntimeDep, request: Request[Any, Any, Any]) -> Response[Any]:
        current = await _session(request)
        if current is None:
            expired = session.COOKIE in request.cookies
            return Redirect("/ui/login?error=expired" if expired else "/ui/login")
        playbooks = [playbook_view(spec) for spec in runtime.registry]
        return Template(
            "dashboard.html",
            context={
                "session": current,
                "pause": await runtime.pause.get(),
                "ago": _ago,
                "playbooks": playbooks,
                "ranges": list(timeline_svg.RANGES),
                "range": request.query_params.get("range")
                if request.query_params.get("range") in timeline_svg.RANGES
                else "24h",
                "ok": message(request.query_params.get("ok"), request.query_params.get("subject")),
                "error": message(request.query_params.get("error"), request.query_params.get("subject")),
            },
        )

    @get("/fragments/{name:str}")
    async def fragment(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], name: FromPath[str]
    ) -> Template:
        current = await _require(request)
        context: dict[str, Any] = {"session": current, **_FORMATS}
        if name == "flags":
            context["flags"] = await runtime.flags.active()
            context["holders"] = await holders(runtime, context["flags"])
        elif name == "approvals":
            context["approvals"] = await runtime.approvals.pending()
        elif name == "executions":
            context["executions"] = await runtime.executions.recent(limit=25)
        elif name == "pause":
            context["pause"] = await runtime.pause.get()
        elif name == "timeline":
            span = timeline_svg.RANGES.get(request.query_params.get("range", "24h"), 86400)
            now = time.time()
            periods, changes, named = await history(runtime, now - span, now)
            context["svg"] = timeline_svg.render(
                periods, changes, now - span, now, lambda h, f: named[(f, h)].label
            )
        elif name == "jobs":
            context["jobs"] = await runtime.scheduler.status()
            context["leader"] = await runtime.scheduler.leader()
        else:
            raise NotFoundException(f"no such section: {name}")
        return Template(f"fragments/{name}.html", context=context)

    @get("/events")
    async def live_events(self, runtime: RuntimeDep, request: Request[Any, Any, Any]) -> ServerSentEvent:
        await _require(request)
        return ServerSentEvent(live.events(runtime), headers={"Cache-Control": "no-store"})

    @get("/executions")
    async def find_executions(self, runtime: RuntimeDep, request: Request[Any, Any, Any]) -> Template:
        current = await _require(request)
        raw = {
            k: request.query_params.get(k, "") for k in ("playbook", "alertname", "status", "since", "until")
        }
        context: dict[str, Any] = {
            "session": current,
            "raw": raw,
            "statuses": finding.STATUSES,
            "playbook_names": sorted(spec.name for spec in runtime.registry),
            "executions": [],
            "more": False,
            **_FORMATS,
        }
        try:
            query = finding.query_of({**raw, "offset": request.query_params.get("offset", "0")})
        except ValueError as exc:
            context.update(q=finding.ExecutionQuery(), error=str(exc))
            return Template("executions.html", context=context, status_code=400)
        args = {**query.store_args(), "limit": query.limit + 1}  # one more tells whether a next page exists
        found = await runtime.executions.recent(**args)

        def page_link(offset: int) -> str:
            return urlencode({**{k: v for k, v in raw.items() if v}, "offset": max(0, offset)})

        context.update(q=query, executions=found[: query.limit], more=len(found) > query.limit)
        context["page_link"] = page_link
        return Template("executions.html", context=context)

    @get("/executions/{execution_id:str}")
    async def execution(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], execution_id: FromPath[str]
    ) -> Template:
        current = await _require(request)
        execution = await runtime.executions.get(execution_id)
        if execution is None:
            raise NotFoundException(f"no execution {execution_id!r}")
        return Template("execution.html", context={"session": current, "execution": execution, **_FORMATS})

    @post("/flags/{name:str}/revert")
    async def revert(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], name: FromPath[str]
    ) -> Redirect:
        current = await _require(request, operator=True)
        try:
            await operations.revert(runtime, name, _actor(request, current))
        except (InvalidFlagName, operations.NothingToRevert):
            return _back("no-lease", name, ok=False)
        return _back("reverted", name)

    @post("/executions/{execution_id:str}/{decision:str}")
    async def decide(
        self,
        runtime: RuntimeDep,
        request: Request[Any, Any, Any],
        execution_id: FromPath[str],
        decision: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect:
        current = await _require(request, operator=True)
        if decision not in ("approve", "reject"):
            return _back("unknown-decision", ok=False)
        verdict: Decision = "approve" if decision == "approve" else "reject"
        decided = await operations.decide(
            runtime,
            execution_id,
            verdict,
            _actor(request, current),
            data.get("comment", ""),
        )
        if decided is None:
            return _back("not-waiting", execution_id, ok=False)
        return _back(f"{decision}d", execution_id)

    @post("/pause")
    async def pause(
        self, runtime: RuntimeDep, request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
    ) -> Redirect:
        current = await _require(request, operator=True)
        try:
            await pause_api.pause(
                runtime, data.get("reason", ""), _actor(request, current), data.get("for") or None
            )
        except ValueError:
            return _back("bad-pause", ok=False)
        return _back("paused")

    @post("/resume")
    async def resume(self, runtime: RuntimeDep, request: Request[Any, Any, Any]) -> Redirect:
        current = await _require(request, operator=True)
        await pause_api.resume(runtime, _actor(request, current))
        return _back("resumed")

    @post("/playbooks/{name:str}/trigger")
    async def trigger(
        self,
        runtime: RuntimeDep,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect:
        current = await _require(request, operator=True)
        labels = {}
        for line in data.get("labels", "").replace(",", "\n").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip():
                labels[key.strip()] = value.strip()
        try:
            params = (
                limits.decode_json(data.get("params", "").encode()) if data.get("params", "").strip() else {}
            )
        except limits.InvalidJSON:
            return _back("bad-params", name, ok=False)
        if not isinstance(params, dict):
            return _back("bad-params", name, ok=False)
        req = operations.TriggerRequest(
            labels=labels,
            params=params,
            dry_run=data.get("dry_run") == "on",
            reason=data.get("reason") or None,
        )
        try:
            await operations.trigger(runtime, name, req, _actor(request, current))
        except operations.UnknownPlaybook:
            return _back("unknown-playbook", name, ok=False)
        except operations.InvalidParams:
            return _back("bad-params", name, ok=False)
        return _back("queued-dry-run" if req.dry_run else "queued", name)
