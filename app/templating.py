"""Jinja2 environment for `templates/` (pages and message texts)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def jinja_env() -> Environment:
    """HTML templates are autoescaped; `.txt.j2` message templates are not."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_text(name: str, **context: Any) -> str:
    """Render a message template (`templates/messages/...`) to plain text."""
    return jinja_env().get_template(name).render(**context).strip()


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render an HTML page; every page gets `request`, `signed_in`, `features` and `demo_channels`
    (what runs against the app's own fakes, named by the area that started them: the demo banner)."""
    staff_id = request.session.get("staff_id") if "session" in request.scope else None
    features: dict[str, str] = request.app.state.features
    demo: list[str] = getattr(request.app.state, "demo_labels", [])
    html = (
        jinja_env()
        .get_template(name)
        .render(
            request=request,
            signed_in=staff_id is not None,
            features=features,
            demo_channels=demo,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
