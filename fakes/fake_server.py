"""Shared machinery of the fake platform servers: call recording, fault injection, a threaded runner.

A platform fake subclasses `FakePlatform` and lists its Starlette routes. `FakeServer(platform)`
serves it with uvicorn on a free loopback port in a background thread. Faults and recorded calls can
be driven in-process (`server.platform.state`) or over HTTP by other processes:

- `POST /__fake__/faults` with a `Fault` as JSON: the next matching request(s) fail;
- `GET /__fake__/calls[?path=regex]`: the recorded calls;
- `GET /__fake__/state`: the platform's own state (posts created, messages sent, ...);
- `POST /__fake__/reset`: forget calls, faults and state.

Fault kinds: `status` (answer with this status, JSON body and headers without handling the request),
`timeout` (hold the request `seconds` and never handle it), `delay` (wait `seconds`, then handle),
`timeout_after` (handle the request, then hold the answer `seconds`: the side effect happened but the
client gives up, the ambiguous outcome that idempotency keys exist for), `status_after` (handle the
request, then answer with `status` anyway: a platform that published and still reported a 5xx).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

FaultKind = Literal["status", "timeout", "delay", "timeout_after", "status_after"]
CONTROL = "/__fake__"


@dataclass
class Fault:
    """One scripted failure. `path` is a regex searched in the request path; `times=-1` never expires;
    `skip`: matching requests let through before it applies (the second post of a thread)."""

    kind: FaultKind = "status"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    path: str = ""
    method: str | None = None
    times: int = 1
    skip: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and re.search(
            self.path, path
        ) is not None


@dataclass
class Call:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    json: Any
    at: float
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FakeState:
    """Calls and pending faults, shared between the server thread and the test thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def find(self, path: str = "", method: str | None = None) -> list[Call]:
        with self.lock:
            return [
                c
                for c in self.calls
                if re.search(path, c.path) and (method is None or c.method == method.upper())
            ]

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.faults.clear()


class FakePlatform:
    """Base class of a platform fake: subclasses define `routes()`, `reset()` and `dump()`."""

    name = "fake"

    def __init__(self) -> None:
        self.state = FakeState()

    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget platform state (posts, messages); calls and faults are reset by the caller."""

    def dump(self) -> dict[str, Any]:
        """Platform state as JSON for `GET /__fake__/state`."""
        return {}

    def fail(self, kind: FaultKind = "status", **kwargs: Any) -> None:
        """Shortcut for tests: `platform.fail("status", status=429, path="/tweets")`."""
        self.state.add_fault(Fault(kind=kind, **kwargs))

    def app(self) -> Starlette:
        control = [
            Route(f"{CONTROL}/faults", self._add_fault, methods=["POST"]),
            Route(f"{CONTROL}/calls", self._calls, methods=["GET"]),
            Route(f"{CONTROL}/state", self._state, methods=["GET"]),
            Route(f"{CONTROL}/reset", self._reset, methods=["POST"]),
        ]
        return Starlette(routes=control + self.routes(), middleware=[], exception_handlers={})

    async def _add_fault(self, request: Request) -> Response:
        self.state.add_fault(Fault(**(await request.json())))
        return JSONResponse({"ok": True})

    async def _calls(self, request: Request) -> Response:
        calls = self.state.find(request.query_params.get("path", ""))
        return JSONResponse([c.to_dict() for c in calls])

    async def _state(self, request: Request) -> Response:
        return JSONResponse(self.dump())

    async def _reset(self, request: Request) -> Response:
        self.state.reset()
        self.reset()
        return JSONResponse({"ok": True})


class FaultMiddleware:
    """Records each platform request and applies the first matching fault."""

    def __init__(self, app: Any, state: FakeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        method, path = scope["method"], scope["path"]
        fault = self.state.take_fault(method, path)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = Request(scope)
        self.state.record(
            Call(
                method=method,
                path=path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body.decode("utf-8", "replace"),
                json=parsed,
                at=time.time(),
                fault=fault.kind if fault else None,
            )
        )

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        if fault is None:
            await self.app(scope, replay, send)
            return
        if fault.kind in ("status", "status_after"):
            if fault.kind == "status_after":  # do the work, then answer with the fault's status

                async def drop(message: Message) -> None:
                    return None

                await self.app(scope, replay, drop)
            await _send_status(send, fault)
        elif fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)
            await send({"type": "http.response.start", "status": 504, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        elif fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, replay, send)
        else:  # timeout_after: do the work, then hold the answer
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, replay, hold)
            await asyncio.sleep(fault.seconds)
            for message in held:
                await send(message)


async def _send_status(send: Send, fault: Fault) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
    payload = json.dumps(fault.body if fault.body is not None else {"message": "fake failure"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": fault.status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class ThreadedServer:
    """Serves any ASGI app with uvicorn on 127.0.0.1 in a background thread (port 0 = a free port)."""

    def __init__(self, app: Any, port: int = 0, name: str = "server") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_keep_alive=30, log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeServer(ThreadedServer):
    """Serves a `FakePlatform` (with recording and faults) in a background thread."""

    def __init__(self, platform: FakePlatform, port: int = 0) -> None:
        self.platform = platform
        super().__init__(FaultMiddleware(platform.app(), platform.state), port, name=f"fake-{platform.name}")

    @property
    def state(self) -> FakeState:
        return self.platform.state
