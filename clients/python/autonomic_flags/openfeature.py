"""`AutonomicProvider`: an OpenFeature provider over `FlagClient`.

    from openfeature import api
    from autonomic_flags import FlagClient
    from autonomic_flags.openfeature import AutonomicProvider

    api.set_provider_and_wait(AutonomicProvider(FlagClient.from_url("redis://redis:6379/0")))
    tier = api.get_client().get_string_value("llm.model_tier", "standard")

Reasons: `STATIC` (read from Redis), `CACHED` (from the in-process cache),
`STALE` (Redis unreachable: last known value), `DEFAULT` (the flag is absent:
no mitigation holds it, so the caller's default *is* the right value — not an
error), `ERROR` with `TYPE_MISMATCH` (a value of the wrong type) or `GENERAL`
(Redis unreachable and nothing known). Changes arrive as
PROVIDER_CONFIGURATION_CHANGED events naming the flag.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata

from autonomic_flags.contract import parse_bool
from autonomic_flags.core import Resolution
from autonomic_flags.sync import FlagClient

T = TypeVar("T")
_REASONS = {"redis": Reason.STATIC, "cache": Reason.CACHED, "stale": Reason.STALE}
ObjectValue = Sequence[FlagValueType] | Mapping[str, FlagValueType]


class _Mismatch(ValueError):
    pass


def _to_bool(text: str) -> bool:
    parsed = parse_bool(text)
    if parsed is None:
        raise _Mismatch(f"{text!r} is not a boolean")
    return parsed


def _to_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Mismatch(f"{text!r} is not an integer") from None


def _to_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _Mismatch(f"{text!r} is not a number") from None


def _to_object(text: str) -> ObjectValue:
    try:
        value = json.loads(text)
    except ValueError:
        raise _Mismatch(f"{text!r} is not JSON") from None
    if not isinstance(value, dict | list):
        raise _Mismatch(f"{text!r} is not a JSON object or array")
    return value


class AutonomicProvider(AbstractProvider):
    """OpenFeature flags served from Autonomic's Redis flag keys."""

    def __init__(self, client: FlagClient, *, close_client: bool = True) -> None:
        super().__init__()
        self.client = client
        self._close = close_client
        client.on_change(self._changed)

    def get_metadata(self) -> Metadata:
        return Metadata(name="autonomic")

    def shutdown(self) -> None:
        if self._close:
            self.client.close()

    def _changed(self, name: str, value: str | None) -> None:
        self.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=[name]))

    def _resolve(self, key: str, default: T, convert: Callable[[str], T]) -> FlagResolutionDetails[T]:
        found: Resolution = self.client.resolve(key)
        if found.value is None:
            if found.source == "missing" and found.error:
                return FlagResolutionDetails(
                    default, error_code=ErrorCode.GENERAL, error_message=found.error, reason=Reason.ERROR
                )
            return FlagResolutionDetails(default, reason=Reason.DEFAULT)
        try:
            value = convert(found.value)
        except _Mismatch as exc:
            return FlagResolutionDetails(
                default, error_code=ErrorCode.TYPE_MISMATCH, error_message=str(exc), reason=Reason.ERROR
            )
        return FlagResolutionDetails(value, reason=_REASONS[found.source], variant=found.value)

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, _to_bool)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, str)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._resolve(flag_key, default_value, _to_int)

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[float]:
        return self._resolve(flag_key, default_value, _to_float)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        return self._resolve(flag_key, default_value, _to_object)


__all__ = ["AutonomicProvider"]
