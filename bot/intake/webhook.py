"""`POST /line/webhook`: verify, store, answer 200 at once; the worker replies afterwards.

400: missing or wrong `X-Line-Signature` (nothing is processed), or a body that is not JSON.
413: a body over 1 MB (by Content-Length, or counted while streaming).
200: everything else the signature covers, including `{"events": []}` (the console's "Verify"),
     events the SDK cannot parse (kept as dead letters: a redelivery would fail the same way) and
     bugs in our parsing (dead-lettered too: LINE must not redeliver forever).
503: the database cannot store the events, or any other unexpected error: nothing is lost if LINE
     redelivers later (stored events are de-duplicated). Never a 500.

The busiest route of the app, so it is served by `fast_webhook`, a plain ASGI handler in front of the
whole FastAPI stack (`app.main.ServiceApp`): it does the request-ID and access-log work of
`app.logs.RequestIdMiddleware` itself and skips the rest. The FastAPI route stays registered (it
describes the endpoint in the OpenAPI document) and answers the same through `accept`.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from app.logs import Access
from app.plain_routes import PlainRoute
from app.request_limits import read_limited
from bot.inbox import inbox_store
from bot.intake.deferred_events import split_body
from bot.intake.webhook_events import MalformedBody, ParsedBody, masked_body, signature_ok

if TYPE_CHECKING:
    from bot.bot_area import BotRuntime

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
PATH = "/line/webhook"
JSON_TYPE = (b"content-type", b"application/json")

Answer = tuple[int, bytes]  # the status and the JSON body (empty for 200)
OK: Answer = (200, b"")

router = APIRouter(tags=["line"], route_class=PlainRoute)  # the endpoint takes the bare Request


def _error(status: int, detail: str) -> Answer:
    return status, json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":")).encode()


@router.post(
    PATH,
    summary="LINE Messaging API webhook",
    responses={
        400: {"description": "bad signature or JSON"},
        413: {"description": "body over 1 MB"},
        503: {"description": "not stored; LINE may redeliver"},
    },
)
async def line_webhook(request: Request) -> Response:
    """Receive LINE webhook events (signed with the channel secret)."""
    status, body = await accept(request.app.state.bot, request.scope, request.receive)
    return Response(body or None, status_code=status, media_type="application/json" if body else None)


async def fast_webhook(app: FastAPI, scope: Scope, receive: Receive, send: Send) -> None:
    """The webhook as a plain ASGI handler, with the request ID and access line of the app's stack."""
    with Access(scope, status=499) as access:  # 499: the client went away before the answer
        access.status, body = await accept(app.state.bot, scope, receive)
        headers = [(b"content-length", str(len(body)).encode()), access.header]
        if body:
            headers.append(JSON_TYPE)
        await send({"type": "http.response.start", "status": access.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def accept(runtime: BotRuntime, scope: Scope, receive: Receive) -> Answer:
    """Read, verify and store one webhook request; the answer to send. Raises `ClientDisconnect`."""
    pressure = runtime.worker.pressure
    pressure.arrived()
    pressure.in_flight += 1
    try:
        return await _receive(runtime, scope, receive)
    except ClientDisconnect:
        raise
    except Exception:
        log.exception("webhook: unexpected error; LINE may redeliver")
        return _error(503, "temporarily unavailable")
    finally:
        pressure.in_flight -= 1


async def _receive(runtime: BotRuntime, scope: Scope, receive: Receive) -> Answer:
    length, signature = _headers(scope["headers"])
    body = await _body(length, receive)
    if isinstance(body, tuple):
        return body
    if not signature_ok(body, signature, runtime.channel_secret):
        log.warning("webhook: bad signature", extra={"x_line_signature": (signature or "-")[:64]})
        return _error(400, "invalid signature")
    try:
        parsed = _parse(body)
    except MalformedBody:
        return _error(400, "the body is not valid JSON")
    try:
        if parsed.items or parsed.dead or parsed.unknown:
            await runtime.intake_db.write(inbox_store.STORE_BODIES, parsed)
    except SQLAlchemyError as exc:
        log.error("webhook: events not stored (%s); LINE may redeliver", type(exc).__name__)
        return _error(503, "storage unavailable")
    if parsed.dead:
        log.warning("webhook: %d event(s) dead-lettered", len(parsed.dead), extra={"dead": len(parsed.dead)})
    runtime.worker.notify(dict.fromkeys(i.chat_id for i in parsed.items))
    return OK


def _headers(raw: list[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    """Content-Length ("" if absent) and X-Line-Signature (None if absent); the first of each counts."""
    length: str | None = None
    signature: str | None = None
    for name, value in raw:
        if name == b"content-length" and length is None:
            length = value.decode("latin-1")
        elif name == b"x-line-signature" and signature is None:
            signature = value.decode("latin-1")
    return length or "", signature


async def _body(length: str, receive: Receive) -> bytes | Answer:
    """The raw body, or the 413/400 answer when it is too large or its length is not a number."""
    if length and not length.isdigit():
        return _error(400, "bad length")
    if length and int(length) > MAX_BODY:
        return _error(413, "body too large")
    body = await read_limited(receive, MAX_BODY)
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
        return ParsedBody(dead=[(reason, masked_body(body))])
