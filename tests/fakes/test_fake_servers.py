"""The shared fake-server machinery: recording, faults over HTTP and in-process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_server import FakePlatform, FakeServer


class EchoPlatform(FakePlatform):
    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.created: list[Any] = []

    def routes(self) -> list[BaseRoute]:
        return [Route("/v1/items", self.create, methods=["POST"])]

    async def create(self, request: Request) -> Response:
        item = await request.json()
        self.created.append(item)
        return JSONResponse({"id": len(self.created)}, status_code=201)

    def reset(self) -> None:
        self.created.clear()

    def dump(self) -> dict[str, Any]:
        return {"created": self.created}


@pytest.fixture
def echo() -> Iterator[FakeServer]:
    with FakeServer(EchoPlatform()) as server:
        yield server


def test_records_calls(echo: FakeServer) -> None:
    r = httpx.post(f"{echo.url}/v1/items", json={"a": 1}, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201 and r.json() == {"id": 1}
    (call,) = echo.state.find("/v1/items")
    assert call.json == {"a": 1} and call.headers["idempotency-key"] == "k1" and call.fault is None


@pytest.mark.parametrize(("status", "headers"), [(429, {"Retry-After": "7"}), (500, {}), (400, {})])
def test_status_fault_does_not_handle_the_request(
    echo: FakeServer, status: int, headers: dict[str, str]
) -> None:
    echo.platform.fail("status", status=status, headers=headers, body={"message": "boom"}, path="/items")
    r = httpx.post(f"{echo.url}/v1/items", json={})
    assert r.status_code == status and r.json() == {"message": "boom"}
    for k, v in headers.items():
        assert r.headers[k] == v
    assert echo.platform.dump() == {"created": []}
    assert httpx.post(f"{echo.url}/v1/items", json={}).status_code == 201  # fault used up


def test_timeout_after_handles_then_hangs(echo: FakeServer) -> None:
    echo.platform.fail("timeout_after", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{echo.url}/v1/items", json={"x": 1}, timeout=0.2)
    assert echo.platform.dump() == {"created": [{"x": 1}]}


def test_timeout_never_handles(echo: FakeServer) -> None:
    echo.platform.fail("timeout", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{echo.url}/v1/items", json={"x": 1}, timeout=0.2)
    assert echo.platform.dump() == {"created": []}


def test_delay_then_handle(echo: FakeServer) -> None:
    echo.platform.fail("delay", seconds=0.3)
    start = time.monotonic()
    assert httpx.post(f"{echo.url}/v1/items", json={}).status_code == 201
    assert time.monotonic() - start >= 0.3


def test_control_api_for_other_processes(echo: FakeServer) -> None:
    httpx.post(f"{echo.url}/__fake__/faults", json={"kind": "status", "status": 503, "times": 2})
    assert [httpx.post(f"{echo.url}/v1/items", json={}).status_code for _ in range(3)] == [503, 503, 201]
    calls = httpx.get(f"{echo.url}/__fake__/calls", params={"path": "items"}).json()
    assert [c["fault"] for c in calls] == ["status", "status", None]
    assert httpx.get(f"{echo.url}/__fake__/state").json() == {"created": [{}]}
    httpx.post(f"{echo.url}/__fake__/reset")
    assert httpx.get(f"{echo.url}/__fake__/calls").json() == []
    assert echo.platform.dump() == {"created": []}


def test_status_after_handles_then_fails(echo: FakeServer) -> None:
    echo.platform.fail("status_after", status=503, body={"message": "busy"})
    r = httpx.post(f"{echo.url}/v1/items", json={"x": 1})
    assert r.status_code == 503 and r.json() == {"message": "busy"}
    assert echo.platform.dump() == {"created": [{"x": 1}]}
