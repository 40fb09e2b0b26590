"""Bounds on request input that would otherwise surface as server errors: JSON nesting depth
(ids are checked by shape in app/engine/executions.py).

JSON deeper than `MAX_JSON_DEPTH` is refused with a 400 naming the limit before anything
decodes it recursively (msgspec, pydantic and `json` all recurse, and Python's recursion
limit turns a deep document into a 500).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException

MAX_JSON_DEPTH = 32


class InvalidJSON(ValueError):
    """Malformed, or nested deeper than MAX_JSON_DEPTH."""


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a decoded JSON value (iteratively, no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def decode_json(body: bytes) -> Any:
    """`body` decoded; InvalidJSON if malformed or nested deeper than MAX_JSON_DEPTH."""
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        raise InvalidJSON(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"malformed JSON: {exc}") from None
    if depth(value) > MAX_JSON_DEPTH:
        raise InvalidJSON(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


async def bounded_json(request: Request[Any, Any, Any]) -> None:
    """`before_request` hook: 400 for a JSON body nested deeper than MAX_JSON_DEPTH."""
    body = await request.body()
    if not body.strip():
        return
    try:
        decode_json(body)
    except InvalidJSON as exc:
        if "deeper" in str(exc):
            raise ClientException(str(exc)) from None
        # Malformed JSON is left to the handler's own decoding, which names the problem.
