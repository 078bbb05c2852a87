"""JSON logs with a request id, and the middleware that assigns it."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any `extra=` fields.

    Every request writes one such line, so this is on the hot path of every route: one shared
    encoder, and the date part of the timestamp computed once per second."""

    _encode = json.JSONEncoder(ensure_ascii=False, default=str).encode
    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            data["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key[:1] != "_":
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return self._encode(data)

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC with milliseconds, like `datetime.isoformat(timespec="milliseconds")`."""
        second = int(created)
        cached, prefix = self._second  # one tuple: threads never see a half-updated pair
        if cached != second:
            prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, prefix)
        return f"{prefix}.{int((created - second) * 1000):03d}+00:00"


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = request_id_var.get()
        base = super().format(record)
        return f"{base} [{rid}]" if rid else base


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send all logs (ours, uvicorn's, alembic's) to stderr in one format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # our access log replaces uvicorn's, which would print the full query string
    logging.getLogger("uvicorn.access").disabled = True


ACCESS_LOG = logging.getLogger("app.access")


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's `X-Request-ID` when it is short and printable, else a new random one."""
    incoming = dict(headers).get(b"x-request-id", b"").decode("latin-1")
    return incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex


def log_access(method: str, path: str, status: int, start: float, rid: str) -> None:
    """The access line (built directly: `Logger.info` would also walk the stack for the caller)."""
    if not ACCESS_LOG.isEnabledFor(logging.INFO):
        return
    extra = {
        "request_id": rid,
        "status": status,
        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
    }
    record = ACCESS_LOG.makeRecord(
        ACCESS_LOG.name, logging.INFO, "", 0, "%s %s %s", (method, path, status), None, None, extra
    )
    ACCESS_LOG.handle(record)


class Access:
    """One HTTP request's id and access line, the single implementation behind `RequestIdMiddleware`
    and the handlers served in front of the stack (`app.plain_routes.FastRoute`):

        with Access(scope) as access:
            ...  # send headers including `access.header`, set `access.status`
    """

    __slots__ = ("_token", "header", "method", "path", "rid", "start", "status")

    def __init__(self, scope: Scope, status: int = 500) -> None:
        self.method, self.path = scope["method"], scope["path"]
        self.rid = request_id(scope["headers"])
        self.header = (b"x-request-id", self.rid.encode())
        self.status = status  # what the access line reports unless a response says otherwise

    def __enter__(self) -> Access:
        self._token = request_id_var.set(self.rid)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        log_access(self.method, self.path, self.status, self.start, self.rid)
        request_id_var.reset(self._token)


class RequestIdMiddleware:
    """Takes `X-Request-ID` from the request (or makes one), logs one access line, echoes the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with Access(scope) as access:

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    access.status = message["status"]
                    message.setdefault("headers", []).append(access.header)
                await send(message)

            await self.app(scope, receive, send_wrapper)
