"""The console as an on-call reads it, in headless Chromium (Debian's) through Playwright:
holders named by their alert (name, key labels, links to the execution, Alertmanager and
the alert's graph) or by the operator and their reason; execution records with formatted
JSON, ISO-8601 and relative times and durations with units; pages that carry no inline
script or style (a strict CSP can forbid them); usable at 1280x800 and at 390 px wide.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import httpx
import pytest
import redis

from tests.conftest import NAMED_OPERATORS
from tests.e2e.test_console import ARTIFACTS, login
from tests.integration.helpers import alert, payload, post, resolved
from tests.support.procs import Service, wait_for

pytestmark = pytest.mark.e2e
DANA = {"Authorization": f"Bearer {NAMED_OPERATORS['dana']}"}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _fire_cost_spike(svc: Service, sync_redis: redis.Redis, flag_prefix: str) -> dict[str, object]:
    firing = alert("CostSpike", severity="critical", team="llm")
    firing["generatorURL"] = "http://prometheus:9090/graph?g0.expr=llm_cost_rate"
    post(svc.url, payload(firing))
    wait_for(lambda: sync_redis.get(flag_prefix + "cache.mode") == "aggressive", what="mitigation")
    return firing


def test_holders_are_named_by_their_alert_and_operator(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    firing = _fire_cost_spike(svc, sync_redis, flag_prefix)
    queued = httpx.post(
        f"{svc.url}/api/playbooks/scale_chat/trigger",
        json={"params": {"replicas": 3}, "reason": "load test before launch"},
        headers={"Authorization": f"Bearer {NAMED_OPERATORS['dana']}"},
    )
    assert queued.status_code == 202, queued.text
    wait_for(lambda: sync_redis.get(flag_prefix + "manual.replicas") == "3", what="manual run")

    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    page.set_viewport_size({"width": 1280, "height": 800})  # type: ignore[attr-defined]
    holder = page.locator("[data-flag='cache.mode'] [data-holder-kind='alert']")  # type: ignore[attr-defined]
    holder.wait_for(timeout=15000)
    text = holder.inner_text()
    assert "CostSpike" in text and "severity=critical" in text and "team=llm" in text
    assert f"alert:{firing['fingerprint']}" == holder.get_attribute("data-holder")
    execution_link = holder.locator("[data-link='execution']").get_attribute("href")
    am_link = holder.locator("[data-link='alertmanager']").get_attribute("href")
    assert holder.locator("[data-link='generator']").get_attribute("href") == firing["generatorURL"]
    # The webhook's externalURL is Alertmanager's own address; the link filters to this alert.
    assert am_link.startswith("http://alertmanager:9093/#/alerts?")
    assert "alertname%3D%22CostSpike%22" in am_link and "severity%3D%22critical%22" in am_link

    operator = page.locator("[data-flag='manual.replicas'] [data-holder-kind='operator']")  # type: ignore[attr-defined]
    assert "dana" in operator.inner_text() and "load test before launch" in operator.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-holders-1280.png"), full_page=False)  # type: ignore[attr-defined]

    # The same names over the API.
    flags = {f["name"]: f for f in httpx.get(f"{svc.url}/api/flags", headers=DANA).json()}
    held_by = flags["cache.mode"]["leases"][0]["held_by"]
    assert held_by["kind"] == "alert" and held_by["label"].startswith("CostSpike · severity=critical")
    assert (
        flags["manual.replicas"]["leases"][0]["held_by"]["label"] == "operator dana: load test before launch"
    )

    # The execution link opens the record that took the lease.
    page.goto(f"{svc.url}{execution_link}")  # type: ignore[attr-defined]
    assert "cost_spike" in page.inner_text("h2").lower()  # type: ignore[attr-defined]


def test_execution_records_are_readable(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    _fire_cost_spike(svc, sync_redis, flag_prefix)
    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    page.locator("[data-execution] a").first.wait_for(timeout=15000)  # type: ignore[attr-defined]
    page.locator("[data-execution] a").first.click()  # type: ignore[attr-defined]
    page.wait_for_url("**/ui/executions/*")  # type: ignore[attr-defined]
    started = page.inner_text("[data-time='started']")  # type: ignore[attr-defined]
    assert ISO.search(started) and re.search(r"\((just now|\d+ s ago|\d+ min ago)\)", started), started
    params = page.locator("[data-json='params']").first.inner_text()  # type: ignore[attr-defined]
    assert params.startswith("{\n") and '"value": "' in params and "'" not in params, params
    results = page.locator("[data-json='result']").all_inner_texts()  # type: ignore[attr-defined]
    assert any('"effective": "' in r and "\n" in r for r in results), results
    expires = page.locator("[data-expires]").first.inner_text()  # type: ignore[attr-defined]
    assert ISO.search(expires) and re.search(r"\(in \d+ (h|min)", expires), expires
    assert "1795" not in expires  # no epoch milliseconds
    durations = page.locator("[data-duration]").all_inner_texts()  # type: ignore[attr-defined]
    assert durations and all(re.fullmatch(r"[\d.]+ (ms|s)", d.strip()) for d in durations), durations
    page.set_viewport_size({"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "console-execution-1280.png"), full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "console-execution-390.png"), full_page=True)  # type: ignore[attr-defined]


def test_dashboard_is_readable_at_390px_and_has_no_inline_code(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    _fire_cost_spike(svc, sync_redis, flag_prefix)
    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.locator("[data-flag='cache.mode']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    # The page itself never scrolls sideways; wide tables scroll inside their section.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    assert "CostSpike" in page.inner_text("[data-flag='cache.mode']")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "console-dashboard-390.png"), full_page=True)  # type: ignore[attr-defined]
    # What the server sends (the live DOM gains empty style attributes from the browser itself).
    html = page.evaluate("async () => (await fetch('/ui')).text()")  # type: ignore[attr-defined]
    html += page.evaluate("async () => (await fetch('/ui/fragments/flags')).text()")  # type: ignore[attr-defined]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    css = httpx.get(f"{svc.url}/ui/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert violations == []


def test_executions_are_found_by_filters_with_paging(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    post(svc.url, payload(*(alert("SyncTest", value=str(i)) for i in range(30))))
    post(svc.url, payload(alert("FailTest")))
    wait_for(
        lambda: len(httpx.get(f"{svc.url}/api/executions?limit=100", headers=DANA).json()) >= 31,
        what="31 executions",
    )
    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    page.click("[data-link='find-executions']")  # type: ignore[attr-defined]
    page.wait_for_url("**/ui/executions")  # type: ignore[attr-defined]
    page.fill("input[name=alertname]", "SyncTest")  # type: ignore[attr-defined]
    page.fill("input[name=since]", "1h")  # type: ignore[attr-defined]
    page.click("[data-filters] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**alertname=SyncTest**")  # type: ignore[attr-defined]
    rows = page.locator("[data-table='executions'] [data-execution]")  # type: ignore[attr-defined]
    assert rows.count() == 25
    first_page = set(rows.evaluate_all("rs => rs.map(r => r.dataset.execution)"))
    assert "FailTest" not in page.inner_text("[data-table='executions']")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "console-find-1280.png"), full_page=True)  # type: ignore[attr-defined]
    page.click("[data-page='older']")  # type: ignore[attr-defined]
    page.wait_for_url("**offset=25**")  # type: ignore[attr-defined]
    older = set(rows.evaluate_all("rs => rs.map(r => r.dataset.execution)"))
    assert len(older) == 5 and not older & first_page
    assert page.locator("[data-page='older']").count() == 0  # type: ignore[attr-defined]
    assert "Showing 26\u201330" in page.inner_text("[data-range]")  # type: ignore[attr-defined]

    page.select_option("select[name=status]", "failed")  # type: ignore[attr-defined]
    page.fill("input[name=alertname]", "")  # type: ignore[attr-defined]
    page.click("[data-filters] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**status=failed**")  # type: ignore[attr-defined]
    assert rows.count() == 1 and "FailTest" in rows.first.inner_text()
    page.goto(f"{svc.url}/ui/executions?since=yesterday")  # type: ignore[attr-defined]
    assert "invalid time 'yesterday'" in page.inner_text(".flash.error")  # type: ignore[attr-defined]


def test_mitigation_timeline_and_history(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    firing = _fire_cost_spike(svc, sync_redis, flag_prefix)
    post(svc.url, payload(resolved(firing)))
    wait_for(lambda: sync_redis.get(flag_prefix + "cache.mode") is None, what="released on resolve")
    post(svc.url, payload(alert("HoldTest", severity="warning")))
    wait_for(lambda: sync_redis.get(flag_prefix + "hold.flag") == "on", what="a second mitigation")

    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    page.set_viewport_size({"width": 1280, "height": 800})  # type: ignore[attr-defined]
    bar = page.locator("svg[data-timeline='86400'] rect[data-period='cache.mode']")  # type: ignore[attr-defined]
    bar.first.wait_for(timeout=15000)
    tip = bar.first.locator("title").text_content()
    assert "cache.mode = aggressive" in tip and "CostSpike · severity=critical" in tip and "→ 20" in tip, tip
    assert page.locator("path[data-mark='firing']").count() >= 2  # type: ignore[attr-defined]
    assert page.locator("path[data-mark='resolved']").count() >= 1  # type: ignore[attr-defined]
    still = page.locator("rect[data-period='hold.flag'] title").text_content()  # type: ignore[attr-defined]
    assert still.endswith("→ now"), still
    page.locator("[data-svg]").screenshot(path=str(ARTIFACTS / "console-timeline-1280.png"))  # type: ignore[attr-defined]
    page.click("[data-range-link='1h']")  # type: ignore[attr-defined]
    page.locator("svg[data-timeline='3600'] rect[data-period='hold.flag']").wait_for(timeout=15000)  # type: ignore[attr-defined]

    history = httpx.get(f"{svc.url}/api/flags/history", params={"since": "1h"}, headers=DANA).json()
    changes = [c for c in history["changes"] if c["flag"] == "cache.mode"]
    assert [c["value"] for c in changes] == ["aggressive", None]
    assert changes[0]["held_by"]["label"].startswith("CostSpike · severity=critical")
    assert (
        changes[1]["holder"] is None and changes[1]["reason"] == f"released by alert:{firing['fingerprint']}"
    )
    (period,) = [p for p in history["periods"] if p["flag"] == "cache.mode"]
    assert period["end"] is not None and period["start"] < period["end"]
    bad = httpx.get(f"{svc.url}/api/flags/history", params={"since": "soon"}, headers=DANA)
    assert bad.status_code == 400 and "invalid time 'soon'" in bad.json()["detail"]


def test_live_updates_arrive_over_sse_and_polling_takes_over_without_it(
    browser: object, svc: Service, sync_redis: redis.Redis, flag_prefix: str
) -> None:
    _fire_cost_spike(svc, sync_redis, flag_prefix)
    page = login(browser, svc, NAMED_OPERATORS["dana"], "dana")
    page.locator("body[data-live='sse']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    page.locator("[data-flag='cache.mode']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/ui/fragments/" in r.url else None)  # type: ignore[attr-defined]
    # Change the flag from outside the page: an API revert by another client.
    reverted = httpx.delete(f"{svc.url}/api/flags/cache.mode", headers=DANA)
    assert reverted.status_code == 200, reverted.text
    page.locator("[data-flag='cache.mode']").wait_for(state="detached", timeout=15000)  # type: ignore[attr-defined]
    # It came from the event: only the sections it names were fetched, not every section.
    assert not any("/fragments/jobs" in url for url in fetched), fetched
    assert page.get_attribute("body", "data-live") == "sse"  # type: ignore[attr-defined]

    # Without the event stream the page polls.
    page.route("**/ui/events", lambda route: route.abort())  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    page.locator("[data-flag='llm.model_tier']").wait_for(timeout=15000)  # type: ignore[attr-defined]
    assert page.get_attribute("body", "data-live") == "polling"  # type: ignore[attr-defined]
    httpx.delete(f"{svc.url}/api/flags/llm.model_tier", headers=DANA).raise_for_status()
    page.locator("[data-flag='llm.model_tier']").wait_for(state="detached", timeout=15000)  # type: ignore[attr-defined]
