"""First run: while no staff account exists, the server prints a one-time link (`/setup?token=…`) that
creates the first admin in the browser, as Grafana or Jenkins do. The token lives in this process only:
it is valid until it is used or the server restarts (a restart prints a new one), and the page answers
404 once any staff account exists. `suita create-staff` keeps working at any time.

With several server processes (`serve --workers N`) each prints its own link, valid in that process
only: use `suita create-staff` there.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import audit
from app.auth import UserError, create_staff_user, session_cookie, sign_in
from app.deps import SessionDep
from app.settings import Settings
from app.staff_tables import StaffUser
from app.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_lock = threading.Lock()  # one form at a time may use the token


def has_staff(session: Session) -> bool:
    return session.scalar(select(StaffUser.id).limit(1)) is not None


def setup_link(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/setup?token={token}"


def announce(link: str) -> None:
    """Print the link on the console (not into the logs: it is a credential until used)."""
    sys.stderr.write(
        "\n"
        "  職員アカウントがまだありません。次のリンクをブラウザーで開き、最初の管理者を作成してください。\n"
        "  No staff account exists yet: open this one-time link to create the first admin:\n"
        f"    {link}\n"
        "  (使えるのは 1 回、サーバーを再起動するまで / once, until the server restarts; "
        "or run `suita create-staff NAME --role admin`)\n\n"
    )
    sys.stderr.flush()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.setup_token = None
    try:
        first_run = not await app.state.db.read(has_staff)
    except SQLAlchemyError as exc:  # not migrated yet: /readyz says so; no link until a restart
        log.warning("first-run check skipped: %s", type(exc).__name__)
        first_run = False
    if first_run:
        app.state.setup_token = secrets.token_urlsafe(32)
        announce(setup_link(app.state.settings, app.state.setup_token))
        log.info("no staff account yet: a one-time setup link was printed on the console")
    yield


def _valid(request: Request, token: str) -> bool:
    expected: str | None = getattr(request.app.state, "setup_token", None)
    return bool(expected) and hmac.compare_digest(token.encode(), str(expected).encode())


def _invalid(request: Request) -> Response:
    return render(request, "pages/setup.html.j2", {"token": None, "error": None, "username": ""}, 404)


@router.get("/setup", response_class=HTMLResponse)
def setup_page(request: Request, session: SessionDep, token: str = "") -> Response:
    if not _valid(request, token) or has_staff(session):
        return _invalid(request)
    return render(request, "pages/setup.html.j2", {"token": token, "error": None, "username": "admin"})


def _create_admin(
    session: Session, request: Request, token: str, username: str, password: str, origin: audit.Origin
) -> StaffUser | str:
    """The first admin, or why not (an error text); forgets the token once it is used."""
    with _lock:
        if not _valid(request, token) or has_staff(session):
            return ""
        try:
            user = create_staff_user(session, username=username, password=password, role="admin")
        except UserError as exc:
            return f"作成できません / Not created: {exc}"
        summary = {"changes": {"role": [None, "admin"]}, "note": "first-run setup link"}
        audit.record(session, audit.Actor.of(user), origin, "staff.create", "staff_user", user.id, summary)
        session.commit()
        request.app.state.setup_token = None
        return user


@router.post("/setup")
async def create_first_admin(
    request: Request,
    token: Annotated[str, Form(max_length=100)],
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    password_again: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Create the first admin with the one-time token, sign in, and forget the token."""
    if password != password_again:
        error: StaffUser | str = "パスワードが一致しません / The passwords do not match"
    else:
        error = await request.app.state.db.run(
            _create_admin, request, token, username, password, audit.Origin.of(request)
        )
    if error == "":
        return _invalid(request)
    if isinstance(error, str):
        context = {"token": token, "error": error, "username": username}
        return render(request, "pages/setup.html.j2", context, status_code=422)
    response = RedirectResponse("/", status_code=303)
    session_cookie(request, response, await sign_in(request, error))
    log.info("first admin created through the setup link", extra={"staff": error.username})
    return response
