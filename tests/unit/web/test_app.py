"""Route handlers reach the replica's runtime through one Litestar dependency (`runtime`),
which stays out of the API schema."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from app.settings import Settings
from app.web.app import create_app

TOKEN = "op-token-0123456789abcdef"


def test_handlers_get_the_runtime_as_a_dependency() -> None:
    ns = f"webdep-{uuid.uuid4().hex[:8]}:"
    settings = Settings(
        redis_url="memory://",
        redis_namespace=ns,
        flag_prefix=f"{ns}flags:",
        operator_token=TOKEN,  # type: ignore[arg-type]
        playbook_entry_points=False,
    )
    app = create_app(settings, run_workers=False, announce_tokens=False)
    runtime = app.state.runtime
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(app) as client:
        playbooks = client.get("/api/playbooks", headers=headers).json()
        assert [p["name"] for p in playbooks] == [spec.name for spec in runtime.registry]
        assert client.get("/api/approvals", headers=headers).json() == []
        assert client.get("/api/pause", headers=headers).json()["paused"] is False
        assert client.get("/readyz").status_code == 200
        schema = client.get("/schema/openapi.json").json()
    parameters = [
        p["name"]
        for path in schema["paths"].values()
        for op in path.values()
        for p in op.get("parameters", [])
    ]
    assert "runtime" not in parameters and "request" not in parameters
