"""The unmodified npm providers (@openfeature/server-sdk + @openfeature/ofrep-provider) read Autonomic.

The server-side OFREP provider does not cache: every evaluation is one POST, so
its documented refresh is "the next evaluation", and a change shows as soon as
the service's flag view has it (by the change message).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.helpers import alert, payload, post, resolved
from tests.integration.test_ofrep import FLAGS_TOKEN
from tests.support.procs import ROOT, Service, wait_for

NODE_MODULES = ROOT / ".cache" / "npm" / "node_modules"


class NodeClient:
    """The Node script, one evaluation per request/response line."""

    def __init__(self, base_url: str) -> None:
        node = shutil.which("node")
        assert node, "node is not installed (tests/run installs it)"
        assert (NODE_MODULES / "@openfeature" / "ofrep-provider").is_dir(), (
            "run tests/run to install the npm provider"
        )
        self.proc = subprocess.Popen(
            [node, str(ROOT / "tests" / "support" / "ofrep_client.cjs"), base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        )

    def evaluate(self, key: str, kind: str, default: Any, token: str = FLAGS_TOKEN) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(
            json.dumps({"token": token, "key": key, "type": kind, "default": default}) + "\n"
        )
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the node client exited"
        result: dict[str, Any] = json.loads(line)
        assert "thrown" not in result, result
        return result

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def node(start_service: Callable[..., Service]) -> Iterator[tuple[Service, NodeClient]]:
    svc = start_service(AUTONOMIC_FLAGS_TOKEN=FLAGS_TOKEN)
    client = NodeClient(svc.url)
    yield svc, client
    client.close()


def test_node_provider_follows_a_mitigation(node: tuple[Service, NodeClient]) -> None:
    svc, client = node
    absent = client.evaluate("llm.model_tier", "string", "standard")
    assert absent["value"] == "standard"  # no mitigation: the code default, nothing thrown
    assert absent["errorCode"] == "FLAG_NOT_FOUND"

    firing = alert("CostSpike")
    assert post(svc.url, payload(firing)).status_code == 202
    wait_for(
        lambda: client.evaluate("llm.model_tier", "string", "standard")["value"] == "economy", what="economy"
    )
    tier = client.evaluate("llm.model_tier", "string", "standard")
    assert (tier["reason"], tier["errorCode"]) == ("STATIC", None)
    assert tier["flagMetadata"]["mitigating"] is True
    assert tier["flagMetadata"]["holders"] == 1
    assert client.evaluate("ratelimit.factor", "number", 1)["value"] == 0.5

    assert post(svc.url, payload(resolved(firing))).status_code == 202
    wait_for(
        lambda: client.evaluate("llm.model_tier", "string", "standard")["value"] == "standard", what="default"
    )
    assert client.evaluate("ratelimit.factor", "number", 1)["value"] == 1


def test_node_provider_wrong_token_and_bad_name(node: tuple[Service, NodeClient]) -> None:
    _, client = node
    refused = client.evaluate("llm.model_tier", "string", "standard", token="wrong-token-0123456789abcdef")
    assert refused["value"] == "standard"
    assert refused["reason"] == "ERROR"
    assert refused["errorCode"] == "GENERAL"
    assert refused["errorName"] == "OFREPApiUnauthorizedError"
    bad = client.evaluate("Not A Flag", "boolean", False)
    assert (bad["value"], bad["reason"], bad["errorCode"]) == (False, "ERROR", "GENERAL")
    assert "[a-z0-9_.-]+" in bad["errorMessage"]
    assert client.evaluate("no.such.flag", "boolean", True)["errorName"] == "FlagNotFoundError"
