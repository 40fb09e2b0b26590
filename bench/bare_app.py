"""The limit: a bare Litestar endpoint answering 202 to the webhook payload, doing nothing."""

from litestar import Litestar, Request, post


@post("/webhooks/alertmanager", status_code=202)
async def webhook(request: Request) -> dict[str, int]:  # type: ignore[type-arg]
    await request.body()
    return {"accepted": 0, "duplicates": 0}


app = Litestar([webhook])
