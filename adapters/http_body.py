"""Reading a platform's signed request body with a size cap, shared by Slack's and Discord's
HTTP endpoints: the signature covers the raw bytes, so the body is read whole before any check,
and a body past the cap is refused before it is buffered."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

__all__ = ["read_capped_body"]


async def read_capped_body(request: Request, limit: int) -> bytes | Response:
    """The raw body, or the error response to send instead (413 too large, 400 gone away)."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        return PlainTextResponse("request too large", status_code=413)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                return PlainTextResponse("request too large", status_code=413)
    except ClientDisconnect:
        return PlainTextResponse("client went away", status_code=400)
    return bytes(body)
