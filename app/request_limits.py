"""Bounded requests: `BodyLimit` refuses request bodies over a size before any route reads them (413),
`read_limited` reads a body up to a limit (LINE's webhook, the CSRF check of forms), and
`error_handlers` turn what the database refuses or cannot do now into clear answers, never a 500:
every connection busy (the pool's short timeout) or the database away → 503 with `Retry-After`; a value
it cannot store (a NUL character on PostgreSQL, a number out of range) → 422. Invalid requests answer
FastAPI's 422 even when the value they echo cannot be written as UTF-8 (a lone surrogate from a JSON
escape), which FastAPI's own handler fails on."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 3 * 1024 * 1024  # the 2 MB imports and their multipart framing
BUSY = "混雑しています。しばらくしてから再度お試しください / The service is busy: try again shortly"
UNSTORABLE = (
    "保存できない値が含まれています(NUL 文字、範囲外の数値など) / "
    "The request contains a value that cannot be stored (a NUL character, a number out of range, ...)"
)


TOO_LARGE = "リクエストが大きすぎます / Request body too large"


class BodyTooLarge(HTTPException):
    """Raised by `BodyLimit`'s `receive` when a body streams past the limit: an `HTTPException`, so a
    route reading its body answers 413 (FastAPI turns other errors while parsing into 400)."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class BodyLimit:
    """413 for a body larger than `limit` bytes: by `Content-Length` before anything is read, or while
    it streams in (chunked uploads)."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await _too_large(send)
                return
        size = 0
        started = False

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > self.limit:
                raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await _too_large(send)


async def read_limited(receive: Receive, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` bytes (the rest is not read into memory).

    Raises `ClientDisconnect` when the client goes away first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _too_large(send: Send) -> None:
    body = json.dumps({"detail": TOO_LARGE}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _busy(request: Request, exc: Exception) -> Response:
    log.warning("database busy or away: %s", type(exc).__name__, extra={"path": request.url.path})
    return JSONResponse({"detail": BUSY}, status_code=503, headers={"Retry-After": "2"})


def _unstorable(request: Request, exc: Exception) -> Response:
    log.warning("database refused a value: %s", type(exc).__name__, extra={"path": request.url.path})
    return JSONResponse({"detail": UNSTORABLE}, status_code=422)


def _statement(request: Request, exc: Exception) -> Response:
    """A statement that failed before reaching the database: a value the driver cannot send (a string
    with a lone surrogate, an integer too large for SQLite)."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, UnicodeError | OverflowError | ValueError):
        return _unstorable(request, exc)
    raise exc


class SafeJSONResponse(JSONResponse):
    """JSON as UTF-8, or with `\\u` escapes when a string cannot be UTF-8 (a lone surrogate)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def _invalid(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return SafeJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


Handler = Callable[[Request, Exception], Response | Coroutine[Any, Any, Response]]
error_handlers: dict[type[Exception], Handler] = {
    RequestValidationError: _invalid,
    PoolTimeout: _busy,
    OperationalError: _busy,
    DataError: _unstorable,
    StatementError: _statement,
}
