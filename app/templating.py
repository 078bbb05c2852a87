"""Jinja2 environment for `templates/` (pages and message texts)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.csrf import csrf_token
from app.staff_sessions import COOKIE
from app.staff_tables import ROLE_WORDS

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
    """Render an HTML page; every page gets `request`, `signed_in` (the route resolved a signed-in
    staff member: `app.auth.current_staff`), `me` (that member, or None) and `role_words`,
    `features`, `csrf_token` (for the page's scripts and forms: `app.csrf`; empty for a browser without
    a session cookie), `demo_channels` (what runs against the app's own fakes, named by the area that
    started them: the demo banner) and `disaster_mode` (its headline while the mode is on: the
    disaster banner; `bot.disaster_mode`)."""
    cookie = request.cookies.get(COOKIE)
    demo: list[str] = getattr(request.app.state, "demo_labels", [])
    html = (
        jinja_env()
        .get_template(name)
        .render(
            request=request,
            signed_in=getattr(request.state, "staff", None) is not None,
            me=getattr(request.state, "staff", None),
            role_words=ROLE_WORDS,
            features=request.app.state.features,
            csrf_token=csrf_token(request.app.state.secret, cookie) if cookie else "",
            demo_channels=demo,
            disaster_mode=getattr(request.app.state, "disaster_mode", None),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
