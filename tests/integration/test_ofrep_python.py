"""The unmodified PyPI providers (openfeature-sdk + openfeature-provider-ofrep) read Autonomic over OFREP.

`OFREPProvider` does not cache: every evaluation is one POST, so its refresh is
"the next evaluation" and a change shows as soon as the service's flag view
has it (by the change message).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from tests.integration.helpers import alert, payload, post, resolved
from tests.integration.test_ofrep import FLAGS_TOKEN
from tests.support.procs import Service, wait_for


def client_for(svc: Service, token: str) -> OpenFeatureClient:
    domain = f"ofrep-{uuid.uuid4().hex[:8]}"
    provider = OFREPProvider(svc.url, headers_factory=lambda: {"Authorization": f"Bearer {token}"})
    api.set_provider(provider, domain)
    return api.get_client(domain)


@pytest.fixture
def svc(start_service: Callable[..., Service]) -> Iterator[Service]:
    yield start_service(AUTONOMIC_FLAGS_TOKEN=FLAGS_TOKEN)
    api.shutdown()


def test_python_provider_follows_a_mitigation(svc: Service) -> None:
    flags = client_for(svc, FLAGS_TOKEN)
    absent = flags.get_string_details("llm.model_tier", "standard")
    assert absent.value == "standard"  # no mitigation: the code default, nothing raised
    assert absent.error_code == ErrorCode.FLAG_NOT_FOUND

    firing = alert("CostSpike")
    assert post(svc.url, payload(firing)).status_code == 202
    wait_for(lambda: flags.get_string_value("llm.model_tier", "standard") == "economy", what="economy tier")
    tier = flags.get_string_details("llm.model_tier", "standard")
    assert (tier.reason, tier.error_code, tier.variant) == (Reason.STATIC, None, "economy")
    assert tier.flag_metadata["mitigating"] is True
    assert tier.flag_metadata["holders"] == 1
    assert str(tier.flag_metadata["reason"]).startswith("set by alert:")
    assert flags.get_float_value("ratelimit.factor", 1.0) == 0.5
    assert flags.get_string_value("cache.mode", "normal") == "aggressive"

    assert post(svc.url, payload(resolved(firing))).status_code == 202
    wait_for(
        lambda: flags.get_string_value("llm.model_tier", "standard") == "standard", what="code default back"
    )
    assert flags.get_float_value("ratelimit.factor", 1.0) == 1.0


def test_python_provider_wrong_token_is_an_auth_error(svc: Service) -> None:
    flags = client_for(svc, "wrong-token-0123456789abcdef")
    details = flags.get_string_details("llm.model_tier", "standard")
    assert details.value == "standard"
    assert details.reason == Reason.ERROR
    assert details.error_code == ErrorCode.GENERAL
    assert details.error_message == "unauthorized"


def test_python_provider_absent_and_invalid_flags(svc: Service) -> None:
    flags = client_for(svc, FLAGS_TOKEN)
    assert flags.get_boolean_value("feature.never.set", True) is True  # no exception, the default
    bad = flags.get_boolean_details("Bad Name", False)
    assert (bad.value, bad.error_code) == (False, ErrorCode.GENERAL)
    assert "[a-z0-9_.-]+" in str(bad.error_message)
