"""Staff accounts: scrypt password hashes, a signed session cookie, and route dependencies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deps import SessionDep
from app.staff_tables import StaffUser
from app.templating import render

ROLES = ("admin", "editor", "viewer")
EDITOR_ROLES = ("admin", "editor")  # may change what the public sees (posts, FAQ entries)
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


class UserError(ValueError):
    pass


def create_staff_user(session: Session, *, username: str, password: str, role: str = "editor") -> StaffUser:
    """Create a staff account; raises `UserError` for a bad name, short password or duplicate."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("ユーザー名は 1〜64 文字にしてください / username must be 1–64 characters")
    if len(password) < 10:
        raise UserError("パスワードは 10 文字以上にしてください / password must be at least 10 characters")
    if role not in ROLES:
        raise UserError(f"権限は {'・'.join(ROLES)} のどれかです / role must be one of {', '.join(ROLES)}")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise UserError(f"ユーザー {username!r} はすでにあります / user {username!r} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip()))
    if user is None:
        verify_password(password, hash_password("timing-equaliser"))
        return None
    if not verify_password(password, user.password_hash):
        return None
    user.last_login_at = datetime.now(UTC)
    return user


def current_staff(request: Request, session: SessionDep) -> StaffUser | None:
    """The signed-in staff member, or None."""
    user_id = request.session.get("staff_id")
    return session.get(StaffUser, user_id) if isinstance(user_id, int) else None


def require_staff(user: Annotated[StaffUser | None, Depends(current_staff)]) -> StaffUser:
    """Dependency for staff-only JSON routes: 401 without a session."""
    if user is None:
        raise HTTPException(401, "staff sign-in required / 職員のログインが必要です")
    return user


def require_editor(user: Annotated[StaffUser, Depends(require_staff)]) -> StaffUser:
    if user.role not in EDITOR_ROLES:
        raise HTTPException(403, "editor role required / 編集権限が必要です")
    return user


StaffDep = Annotated[StaffUser, Depends(require_staff)]
EditorDep = Annotated[StaffUser, Depends(require_editor)]
OptionalStaffDep = Annotated[StaffUser | None, Depends(current_staff)]

router = APIRouter(tags=["auth"])


def sign_in_redirect(request: Request) -> RedirectResponse:
    """For a staff page opened without a session: the sign-in page, then back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "pages/login.html.j2", {"next": _safe_next(next), "error": None})


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = authenticate(session, username, password)
    if user is None:
        return render(
            request,
            "pages/login.html.j2",
            {
                "next": _safe_next(next),
                "error": "ユーザー名またはパスワードが違います / Wrong username or password",
            },
            status_code=401,
        )
    session.commit()
    request.session.clear()
    request.session["staff_id"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
