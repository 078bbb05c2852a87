"""How areas' routes are added (`app.main.add_routes`) and `app.plain_routes.PlainRoute`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.main import add_routes
from app.plain_routes import PlainRoute


def _real() -> str:
    return "real"


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/with-dependency")
    def with_dependency(value: str = Depends(_real)) -> str:
        return value

    @router.get("/plain")
    async def plain() -> str:
        return "plain"

    fast = APIRouter(route_class=PlainRoute)

    @fast.post("/fast", responses={413: {"description": "too large"}})
    async def fast_endpoint(request: Request) -> Response:
        return Response(await request.body(), status_code=201)

    return APIRouter(routes=[*router.routes, *fast.routes])


def test_routes_without_dependencies_are_flat_and_overrides_still_reach_the_others() -> None:
    app = FastAPI()
    add_routes(app, _router())
    flat = {r.path for r in app.router.routes if isinstance(r, APIRoute)}
    assert {"/plain", "/fast"} <= flat and "/with-dependency" not in flat
    app.dependency_overrides[_real] = lambda: "override"
    client = TestClient(app)
    assert client.get("/with-dependency").json() == "override"
    assert client.get("/plain").json() == "plain"


def test_a_plain_route_gets_the_bare_request_and_stays_documented() -> None:
    app = FastAPI()
    add_routes(app, _router())
    client = TestClient(app)
    r = client.post("/fast", content=b"raw \xff bytes")
    assert r.status_code == 201 and r.content == b"raw \xff bytes"
    assert client.get("/fast").status_code == 405
    assert "413" in client.get("/openapi.json").json()["paths"]["/fast"]["post"]["responses"]
