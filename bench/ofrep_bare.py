"""The limit for OFREP: bare Litestar endpoints returning the same JSON Autonomic's OFREP returns.

The bodies come from the running service (BENCH_SINGLE_BODY / BENCH_BULK_BODY) and are encoded
once, as Autonomic caches its encoded answers: the bare side reads the body and answers, with no
auth, no validation, no look-up — what is left is Litestar and uvicorn.
"""

import json
import os
from typing import Any

from litestar import Litestar, Request, Response, post

SINGLE = json.dumps(json.loads(os.environ.get("BENCH_SINGLE_BODY", "{}")), separators=(",", ":")).encode()
BULK = json.dumps(
    json.loads(os.environ.get("BENCH_BULK_BODY", '{"flags":[]}')), separators=(",", ":")
).encode()


@post("/ofrep/v1/evaluate/flags/{key:str}", status_code=200)
async def single(request: Request[Any, Any, Any], key: str) -> Response[bytes]:
    await request.body()
    return Response(SINGLE, media_type="application/json")


@post("/ofrep/v1/evaluate/flags", status_code=200)
async def bulk(request: Request[Any, Any, Any]) -> Response[bytes]:
    await request.body()
    return Response(BULK, media_type="application/json")


app = Litestar([single, bulk])
