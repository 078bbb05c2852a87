"""Request context and JSON answers shared by the fake LINE server's handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from fakes.fake_line_rules import Detail, error_body


@dataclass
class Ctx:
    """One request to the fake: the raw body, its JSON (when the endpoint takes JSON), the request ID."""

    request: Request
    request_id: str
    body: bytes
    json: dict[str, Any] = field(default_factory=dict)

    @property
    def retry_key(self) -> str | None:
        return self.request.headers.get("x-line-retry-key")

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])


def answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers=headers)


def bad_request(details: list[Detail], message: str = "The request body has {n} error(s)") -> JSONResponse:
    return answer(error_body(message.format(n=len(details)), details), 400)


def not_found(message: str = "Not found") -> JSONResponse:
    return answer(error_body(message), 404)


def parse_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        value = json.loads(body) if body else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
