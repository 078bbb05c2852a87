"""`POST /line/webhook`: verify, store, answer 200 at once; the worker replies afterwards.

400: missing or wrong `X-Line-Signature` (nothing is processed), or a body that is not JSON.
413: a body over 1 MB (by Content-Length, or counted while streaming).
200: everything else the signature covers, including `{"events": []}` (the console's "Verify"),
     events the SDK cannot parse (kept as dead letters: a redelivery would fail the same way) and
     bugs in our parsing (dead-lettered too: LINE must not redeliver forever).
503: the database cannot store the events: nothing is lost if LINE redelivers later.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from app.routes import PlainRoute
from bot import inbox
from bot.events import MalformedBody, ParsedBody, masked, signature_ok
from bot.intake import split_body

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024

router = APIRouter(tags=["line"], route_class=PlainRoute)  # the endpoint takes the bare Request


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` bytes (the rest is not read into memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/line/webhook",
    summary="LINE Messaging API webhook",
    responses={400: {"description": "bad signature or JSON"}, 413: {"description": "body over 1 MB"}},
)
async def line_webhook(request: Request) -> Response:
    """Receive LINE webhook events (signed with the channel secret)."""
    pressure = request.app.state.bot.worker.pressure
    pressure.arrived()
    pressure.in_flight += 1
    try:
        return await _receive(request)
    finally:
        pressure.in_flight -= 1


async def _receive(request: Request) -> Response:
    runtime: BotRuntime = request.app.state.bot
    body = await _body(request)
    if isinstance(body, Response):
        return body
    signature = request.headers.get("x-line-signature")
    if not signature_ok(body, signature, runtime.channel_secret):
        log.warning("webhook: bad signature", extra={"x_line_signature": (signature or "-")[:64]})
        return _error(400, "invalid signature")
    try:
        parsed = _parse(body)
    except MalformedBody:
        return _error(400, "the body is not valid JSON")
    try:
        if parsed.items or parsed.dead:
            await runtime.db.write(inbox.STORE_BODIES, parsed)
    except SQLAlchemyError as exc:
        log.error("webhook: events not stored (%s); LINE may redeliver", type(exc).__name__)
        return _error(503, "storage unavailable")
    if parsed.dead:
        log.warning("webhook: %d event(s) dead-lettered", len(parsed.dead), extra={"dead": len(parsed.dead)})
    runtime.worker.notify(dict.fromkeys(i.chat_id for i in parsed.items))
    return Response(status_code=200)


async def _body(request: Request) -> bytes | Response:
    """The raw body, or the 413/400 answer when it is too large or its length is not a number."""
    length = request.headers.get("content-length", "")
    if length and not length.isdigit():
        return _error(400, "bad length")
    if length and int(length) > MAX_BODY:
        return _error(413, "body too large")
    body = await read_limited(request, MAX_BODY)
    return _error(413, "body too large") if body is None else body


def _parse(body: bytes) -> ParsedBody:
    """`split_body`, with a bug in it turned into a dead letter (LINE must not redeliver forever)."""
    try:
        return split_body(body)
    except MalformedBody:
        raise
    except Exception as exc:
        log.exception("webhook: unexpected error while parsing")
        reason = f"internal error while parsing: {type(exc).__name__}"
        return ParsedBody(dead=[(reason, masked(body.decode("utf-8", "replace")))])
