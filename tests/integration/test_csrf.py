"""The console's CSRF protection holds while the token-authenticated routes stay exempt, and the
service starts without Litestar's (false) warning that the exclude pattern disables it."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tests.conftest import OPERATOR_TOKEN
from tests.integration.helpers import OPERATOR, alert, payload, post
from tests.support.procs import Service


def test_console_posts_need_the_csrf_token_and_token_routes_do_not(
    start_service: Callable[..., Service],
) -> None:
    svc = start_service()
    assert "Warning" not in svc.logs()
    form = {"token": OPERATOR_TOKEN, "name": "operator"}  # the single-token setting is named operator
    for path in (
        "/ui/login",
        "/ui/logout",
        "/ui/flags/cache.mode/revert",
        "/ui/playbooks/cost_spike/trigger",
    ):
        assert httpx.post(f"{svc.url}{path}", data=form).status_code == 403, path
    # The webhook and /api authenticate every request by token: no CSRF token needed.
    assert post(svc.url, payload(alert("NoPlaybook"))).status_code == 202
    assert httpx.delete(f"{svc.url}/api/flags/not.held", headers=OPERATOR).status_code == 404

    with httpx.Client(base_url=svc.url) as browser:
        page = browser.get("/ui/login")
        (token,) = re.findall(r'name="_csrf_token" value="([^"]+)"', page.text)
        logged_in = browser.post("/ui/login", data={**form, "_csrf_token": token})
        assert logged_in.status_code in (301, 302, 303) and logged_in.headers["location"] == "/ui"
