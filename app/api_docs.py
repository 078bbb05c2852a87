"""`/docs` (Swagger UI) and `/redoc` (ReDoc) on the app's own copies of their files
(`templates/static/vendor/`): they work without internet, and their start-up code is an external
script (`static/api-docs.js`), as the Content-Security-Policy allows no inline script. FastAPI's own
docs pages load both from a CDN with an inline script, so `create_app` turns them off.

DOCS_ENABLED (default: on except in production) switches these pages and `/openapi.json` on or off;
off, all three answer 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.templating import render

# What the service's 422 answers carry in `detail`: FastAPI's list of validation errors, the list of
# problems of a post (`{"field", "message"}`), a message, or an object (`{"errors": [...]}` of imports)
DETAIL_422 = {
    "anyOf": [
        {"type": "array", "items": {"type": "object"}},
        {"type": "string"},
        {"type": "object"},
    ],
    "title": "Detail",
}

router = APIRouter(include_in_schema=False)
SESSIONLESS_PATHS = ("/docs", "/redoc")
TOOLS = {"/docs": "swagger", "/redoc": "redoc"}


def _page(request: Request) -> Response:
    openapi_url = request.app.openapi_url
    if not request.app.state.settings.docs_enabled or openapi_url is None:
        raise HTTPException(404, "Not Found")
    context = {"tool": TOOLS[request.url.path], "openapi_url": openapi_url, "title": request.app.title}
    return render(request, "pages/api_docs.html.j2", context)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> Response:
    """Swagger UI: every operation, with "Try it out"."""
    return _page(request)


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> Response:
    """ReDoc: the same schema as one reference page."""
    return _page(request)


def describe_422(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with 422's `detail` as the service answers it (`DETAIL_422`), so clients
    and the fuzzer (tests/test_api_fuzz.py) check answers against what is really sent."""
    schemas = document.get("components", {}).get("schemas", {})
    error = schemas.get("HTTPValidationError", {}).get("properties", {})
    if "detail" in error:
        error["detail"] = DETAIL_422
    return document
