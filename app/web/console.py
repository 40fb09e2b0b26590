"""The web console at /ui: active mitigations, executions, playbooks, approvals and jobs.

Server-rendered (Jinja templates) with a little plain JavaScript that refreshes
the sections every few seconds. Log in with the operator or viewer token; the
session is an HttpOnly cookie; every form carries a CSRF token (Litestar's CSRF
middleware); only the operator may act.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template

from app.actions.flags import InvalidFlagName
from app.engine.approvals import Decision
from app.plugins.overview import playbook_view
from app.web import operations, session
from app.web import pause as pause_api
from app.web.auth import Tokens
from app.web.operations import runtime_of

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _session(request: Request[Any, Any, Any]) -> session.Session | None:
    tokens: Tokens = request.app.state.tokens
    return session.read(tokens, request.cookies.get(session.COOKIE))


def _require(request: Request[Any, Any, Any], operator: bool = False) -> session.Session:
    current = _session(request)
    if current is None:
        raise NotAuthorizedException("log in at /ui/login")
    if operator and current.role != "operator":
        raise PermissionDeniedException("the viewer token may not change anything")
    return current


def _back(message: str, ok: bool = True) -> Redirect:
    return Redirect(f"/ui?{'ok' if ok else 'error'}={quote(message)}")


def _ago(ts: float | None) -> str:
    if not ts:
        return "-"
    delta = time.time() - ts
    if delta < 0:
        return f"in {_span(-delta)}"
    return f"{_span(delta)} ago"


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


class ConsoleController(Controller):
    """Pages and form posts of the console."""

    path = "/ui"
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any]) -> Template:
        return Template("login.html", context={"error": request.query_params.get("error")})

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], data: dict[str, str] = Form) -> Response[Any]:
        tokens: Tokens = request.app.state.tokens
        role = tokens.role_of(data.get("token", "").strip().encode())
        if role not in ("viewer", "operator"):
            return Redirect("/ui/login?error=invalid+token")
        actor = "".join(c for c in data.get("name", "") if c.isprintable()).strip()[:60] or role
        value = session.issue(tokens, role, actor)
        cookie = Cookie(
            key=session.COOKIE,
            value=value,
            httponly=True,
            samesite="strict",
            path="/ui",
            max_age=session.LIFETIME_S,
            secure=request.url.scheme == "https",
        )
        return Redirect("/ui", cookies=[cookie])

    @post("/logout")
    async def logout(self) -> Response[Any]:
        return Redirect("/ui/login", cookies=[Cookie(key=session.COOKIE, value="", max_age=0, path="/ui")])

    @get("/")
    async def dashboard(self, request: Request[Any, Any, Any]) -> Response[Any]:
        current = _session(request)
        if current is None:
            return Redirect("/ui/login")
        runtime = runtime_of(request)
        playbooks = [playbook_view(spec) for spec in runtime.registry]
        return Template(
            "dashboard.html",
            context={
                "session": current,
                "pause": await runtime.pause.get(),
                "ago": _ago,
                "playbooks": playbooks,
                "ok": request.query_params.get("ok"),
                "error": request.query_params.get("error"),
            },
        )

    @get("/fragments/{name:str}")
    async def fragment(self, request: Request[Any, Any, Any], name: str) -> Template:
        current = _require(request)
        runtime = runtime_of(request)
        context: dict[str, Any] = {"session": current, "ago": _ago}
        if name == "flags":
            context["flags"] = await runtime.flags.active()
        elif name == "approvals":
            context["approvals"] = await runtime.dispatcher.approvals.pending()
        elif name == "executions":
            context["executions"] = await runtime.executions.recent(limit=25)
        elif name == "pause":
            context["pause"] = await runtime.pause.get()
        elif name == "jobs":
            context["jobs"] = await runtime.scheduler.status()
            context["leader"] = await runtime.scheduler.leader()
        else:
            raise NotFoundException(f"no such section: {name}")
        return Template(f"fragments/{name}.html", context=context)

    @get("/executions/{execution_id:str}")
    async def execution(self, request: Request[Any, Any, Any], execution_id: str) -> Template:
        current = _require(request)
        execution = await runtime_of(request).executions.get(execution_id)
        return Template("execution.html", context={"session": current, "execution": execution, "ago": _ago})

    @post("/flags/{name:str}/revert")
    async def revert(self, request: Request[Any, Any, Any], name: str) -> Redirect:
        current = _require(request, operator=True)
        try:
            ended, value, _ = await operations.revert(runtime_of(request), name, current.actor)
        except (InvalidFlagName, operations.NothingToRevert):
            return _back(f"{name} has no active lease", ok=False)
        return _back(
            f"reverted {name}: {ended} lease(s) ended, now {value if value is not None else 'absent'}"
        )

    @post("/executions/{execution_id:str}/{decision:str}")
    async def decide(
        self, request: Request[Any, Any, Any], execution_id: str, decision: str, data: dict[str, str] = Form
    ) -> Redirect:
        current = _require(request, operator=True)
        if decision not in ("approve", "reject"):
            return _back("unknown decision", ok=False)
        verdict: Decision = "approve" if decision == "approve" else "reject"
        decided = await operations.decide(
            runtime_of(request),
            execution_id,
            verdict,
            current.actor,
            data.get("comment", ""),
        )
        if decided is None:
            return _back(f"{execution_id} is not waiting for approval", ok=False)
        return _back(f"{decision}d {decided.playbook} ({execution_id})")

    @post("/pause")
    async def pause(self, request: Request[Any, Any, Any], data: dict[str, str] = Form) -> Redirect:
        current = _require(request, operator=True)
        try:
            await pause_api.pause(
                runtime_of(request), data.get("reason", ""), current.actor, data.get("for") or None
            )
        except ValueError as exc:
            return _back(f"not paused: {exc}", ok=False)
        return _back("paused: no new action runs until resumed")

    @post("/resume")
    async def resume(self, request: Request[Any, Any, Any]) -> Redirect:
        current = _require(request, operator=True)
        await pause_api.resume(runtime_of(request), current.actor)
        return _back("resumed: alerts refused while paused are mitigated again")

    @post("/playbooks/{name:str}/trigger")
    async def trigger(
        self, request: Request[Any, Any, Any], name: str, data: dict[str, str] = Form
    ) -> Redirect:
        current = _require(request, operator=True)
        labels = {}
        for line in data.get("labels", "").replace(",", "\n").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip():
                labels[key.strip()] = value.strip()
        try:
            params = json.loads(data["params"]) if data.get("params", "").strip() else {}
        except ValueError:
            return _back("params must be JSON", ok=False)
        req = operations.TriggerRequest(
            labels=labels,
            params=params,
            dry_run=data.get("dry_run") == "on",
            reason=data.get("reason") or None,
        )
        try:
            execution = await operations.trigger(runtime_of(request), name, req, current.actor)
        except operations.UnknownPlaybook:
            return _back(f"no playbook {name}", ok=False)
        except operations.InvalidParams as exc:
            return _back(f"invalid params: {exc}", ok=False)
        mode = "dry-run" if req.dry_run else "run"
        return _back(f"queued {mode} of {name}: {execution}")
