"""The web console in headless Chromium (Debian's), driven by Playwright: log in, see a
mitigation a webhook just set, revert it, see it gone; a viewer cannot revert; an
approval-gated execution approved from the page runs. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import httpx
import pytest
import redis

from tests.conftest import NAMED_OPERATORS, VIEWER_TOKEN
from tests.e2e.conftest import CHROMIUM
from tests.integration.helpers import OPERATOR, alert, payload, post
from tests.support.procs import ROOT, Service, wait_for

pytestmark = pytest.mark.e2e
ARTIFACTS = ROOT / "tests" / "artifacts"

if CHROMIUM is None:  # tests/run installs Debian's chromium; fail loudly if it is missing
    pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)


def login(browser: object, svc: Service, token: str, name: str) -> object:
    page = browser.new_page(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{svc.url}/ui")
    assert page.url.endswith("/ui/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{svc.url}/ui")
    # Each section's first fetch grows the page and moves what is below it; a click
    # aimed before they land can hit whatever moved under the pointer.
    page.wait_for_function("() => !document.querySelector('[data-loading]')", timeout=15000)
    return page


def test_operator_sees_and_reverts_a_mitigation(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    post(svc.url, payload(alert("CostSpike", severity="warning")))
    wait_for(lambda: sync_redis.get(flag_prefix + "cache.mode") == "aggressive", what="mitigation")
    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    row = page.locator("[data-flag='cache.mode']")  # type: ignore[attr-defined]
    row.wait_for(timeout=15000)
    assert "aggressive" in row.inner_text()
    page.locator("[data-execution]").first.wait_for(timeout=15000)  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-mitigations.png"), full_page=True)  # type: ignore[attr-defined]

    page.once("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
    page.click("[data-revert='cache.mode']")  # type: ignore[attr-defined]
    page.wait_for_url("**/ui?ok=*")  # type: ignore[attr-defined]
    assert "reverted cache.mode" in page.inner_text(".flash.ok")  # type: ignore[attr-defined]
    page.locator("[data-flag='cache.mode']").wait_for(state="detached", timeout=15000)  # type: ignore[attr-defined]
    assert sync_redis.get(flag_prefix + "cache.mode") is None
    reverts = httpx.get(
        f"{svc.url}/api/executions", params={"playbook": "autonomic.revert"}, headers=OPERATOR
    ).json()
    assert reverts[0]["actor"] == "dana"


def test_viewer_cannot_revert(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    post(svc.url, payload(alert("CostSpike")))
    wait_for(lambda: sync_redis.get(flag_prefix + "cache.mode") == "aggressive", what="mitigation")
    page = login(browser, svc, VIEWER_TOKEN, "vic")
    page.locator("[data-flag='cache.mode']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    assert page.locator("[data-revert]").count() == 0  # type: ignore[attr-defined]
    # Even a hand-made form post is refused.
    token = page.locator("input[name=_csrf_token]").first.get_attribute("value")  # type: ignore[attr-defined]
    status = page.evaluate(  # type: ignore[attr-defined]
        """async (t) => (await fetch('/ui/flags/cache.mode/revert', {
             method: 'POST', body: '_csrf_token=' + t,
             headers: {'Content-Type': 'application/x-www-form-urlencoded'}})).status""",
        token,
    )
    assert status == 403
    assert sync_redis.get(flag_prefix + "cache.mode") == "aggressive"


def test_approval_from_the_page_runs_the_execution(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    post(svc.url, payload(alert("GatedTest")))
    page = login(browser, svc, NAMED_OPERATORS["carol"], "carol")
    button = page.locator("[data-approve]")  # type: ignore[attr-defined]
    button.wait_for(timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "console-approval.png"), full_page=True)  # type: ignore[attr-defined]
    button.click()
    page.wait_for_url("**/ui?ok=*")  # type: ignore[attr-defined]
    wait_for(lambda: sync_redis.get(flag_prefix + "gated.flag") == "on", what="approved run")
    row = page.locator("[data-table='executions']").get_by_text("gated")  # type: ignore[attr-defined]
    row.first.wait_for(timeout=15000)


def test_forms_without_a_csrf_token_are_refused(svc: Service) -> None:
    with httpx.Client(base_url=svc.url) as client:
        login_page = client.get("/ui/login")
        csrf = login_page.cookies.get("csrftoken")
        assert csrf
        form = {"name": "alice", "token": NAMED_OPERATORS["alice"]}
        denied = client.post("/ui/login", data=form)
        assert denied.status_code == 403
        import re

        field = re.search(r'name="_csrf_token" value="([^"]+)"', login_page.text)
        assert field
        ok = client.post("/ui/login", data={**form, "_csrf_token": field.group(1)})
        assert ok.status_code in (200, 302, 303)
        session = client.cookies.get("autonomic_session")
        assert session
        assert "HttpOnly" in ok.headers.get("set-cookie", "") or ok.history


def test_operator_pauses_and_resumes_from_the_banner(browser: object, svc: Service) -> None:
    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    page.click("[data-fragment='pause'] summary")  # type: ignore[attr-defined]
    page.fill("[data-fragment='pause'] input[name=reason]", "provider migration")  # type: ignore[attr-defined]
    page.fill("[data-fragment='pause'] input[name=for]", "30m")  # type: ignore[attr-defined]
    page.once("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
    page.click("[data-pause]")  # type: ignore[attr-defined]
    page.wait_for_url("**/ui?ok=*")  # type: ignore[attr-defined]
    banner = page.locator("[data-paused='true']")  # type: ignore[attr-defined]
    banner.wait_for(timeout=15000)
    assert "provider migration" in banner.inner_text() and "by dana" in banner.inner_text()
    assert "paused: runs are refused" in page.inner_text("main").lower()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "console-paused.png"), full_page=True)  # type: ignore[attr-defined]
    state = httpx.get(f"{svc.url}/api/pause", headers=OPERATOR).json()
    assert (state["paused"], state["by"], state["reason"]) == (True, "dana", "provider migration")

    page.click("[data-resume]")  # type: ignore[attr-defined]
    page.wait_for_url("**/ui?ok=*")  # type: ignore[attr-defined]
    page.locator("[data-paused='false']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    assert httpx.get(f"{svc.url}/api/pause", headers=OPERATOR).json()["paused"] is False


def test_viewer_sees_the_pause_but_no_buttons(browser: object, svc: Service) -> None:
    httpx.post(f"{svc.url}/api/pause", json={"reason": "freeze"}, headers=OPERATOR).raise_for_status()
    page = login(browser, svc, VIEWER_TOKEN, "vic")
    page.locator("[data-paused='true']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    assert page.locator("[data-resume]").count() == 0  # type: ignore[attr-defined]
