"""Staff accounts and sign-in: scrypt password hashes, sessions on the server (`app.staff_sessions`), the
sign-in throttle (`app.login_throttle`), the password rules (`app.password_policy`) and the route
dependencies (`StaffDep`, `EditorDep`, `ApproverDep`, `AdminDep`, `OptionalStaffDep`).

Roles (`ROLES`, each includes the powers of those after it): `admin` (staff accounts, settings,
everything), `approver` (approves posts, publishes emergencies), `editor` (writes and submits),
`viewer` (reads). The API enforces them through these dependencies; pages only hide what a role cannot
do. A disabled account (`StaffUser.disabled_at`) cannot sign in and has no session.

- `GET/POST /login`: the sign-in form (its CSRF token comes from a token cookie set by the GET);
  `POST /logout` ends the session.
- `GET /api/v1/session`: `{"user", "role", "csrf_token"}` of the signed-in browser (401 otherwise).
- `POST /api/v1/session/password`: change one's password (every session of the account ends; this
  browser gets a new one).

Sign-in does the same work for unknown and known usernames (one look-up, one scrypt, one recorded
failure), and never holds a database connection while hashing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, login_throttle, staff_sessions
from app.client_address import masked_address
from app.client_limiter import client_of
from app.csrf import csrf_token
from app.login_throttle import Attempt, ThrottlePolicy
from app.password_policy import MAX_LENGTH, password_problems
from app.settings import Settings
from app.staff_sessions import COOKIE, SessionPolicy
from app.staff_tables import ROLES, StaffUser
from app.templating import render
from storage.base import utcnow

log = logging.getLogger(__name__)

EDITOR_ROLES = ("admin", "approver", "editor")  # may change what the public sees (posts, FAQ entries)
APPROVER_ROLES = ("admin", "approver")  # may approve others' posts and publish emergencies
ADMIN_ROLES = ("admin",)  # staff accounts and settings
SIGN_IN_REQUIRED = "職員のログインが必要です / staff sign-in required"
_N, _R, _P = 2**14, 8, 1
# A hash of a random password nobody knows: an unknown username is checked against it, so it costs
# exactly what a known one does (one scrypt).
_UNKNOWN_USER_HASH = "scrypt$16384$8$1$p9/uZLfUjELZuSz/zw2hKg==$clJya+k/aflQP2Lb1hguqigUgRKmr2kOozzLERJvtOw="
HASHING_AT_ONCE = 2  # scrypt uses 16 MB and ~40 ms of CPU: a flood of sign-ins queues, never piles up
WRONG = "ユーザー名またはパスワードが違います / Wrong username or password"
LOCKED = (
    "ログインの失敗が続いたため、しばらくログインできません。{minutes} 分後に再度お試しください / "
    "Too many failed sign-ins: try again in {minutes} min"
)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8", "replace"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def username_key(username: str) -> str:
    """What makes two usernames the same account: NFKC-normalised, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", username).casefold().strip()[:64]


class UserError(ValueError):
    """A username, password or role that cannot be used (the message says why, Japanese first)."""


def create_staff_user(
    session: Session, *, username: str, password: str | None, role: str = "editor"
) -> StaffUser:
    """Create a staff account; raises `UserError` for a bad name, a weak password, an unknown role or a
    name already taken (in any case). `password` None: a random one nobody knows (the account's holder
    sets theirs through a one-time link, `app.staff_admin`)."""
    username = username.strip()
    if not username or len(username) > 64 or not username.isprintable():
        raise UserError(
            "ユーザー名は1〜64文字にしてください / The username must be 1–64 printable characters"
        )
    if role not in ROLES:
        raise UserError(
            f"役割は {', '.join(ROLES)} のいずれかです / The role must be one of {', '.join(ROLES)}"
        )
    problems = password_problems(password, username) if password is not None else []
    if problems:
        raise UserError("; ".join(problems))
    password = password if password is not None else secrets.token_urlsafe(32)
    key = username_key(username)
    if session.scalar(select(StaffUser.id).where(StaffUser.username_key == key)) is not None:
        raise UserError(f"ユーザー {username!r} は既に存在します / User {username!r} already exists")
    user = StaffUser(username=username, username_key=key, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str) -> int:
    """Give `user` a new password (the rules of `password_problems`; `UserError` otherwise) and end
    every session of the account. Returns how many sessions ended. The caller commits."""
    problems = password_problems(password, user.username)
    if problems:
        raise UserError("; ".join(problems))
    user.password_hash = hash_password(password)
    session.add(user)
    return staff_sessions.revoke_all(session, user.id, "password", utcnow())


def find_user(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.username_key == username_key(username)))


# ---- the signed-in staff member of a request ---------------------------------------------------

_UNRESOLVED = object()


async def current_staff(request: Request) -> StaffUser | None:
    """The signed-in staff member, or None (resolved once per request, in a short transaction of its
    own: no connection is held while the route works)."""
    cached = getattr(request.state, "staff", _UNRESOLVED)
    if cached is not _UNRESOLVED:
        return cached if isinstance(cached, StaffUser) else None
    token = request.cookies.get(COOKIE)
    user = None
    if staff_sessions.well_formed(token):
        user = await request.app.state.db.run(
            staff_sessions.resolve, token, SessionPolicy.from_settings(request.app.state.settings), utcnow()
        )
    request.state.staff = user
    return user


def require_staff(user: Annotated[StaffUser | None, Depends(current_staff)]) -> StaffUser:
    """Dependency for staff-only JSON routes: 401 without a session."""
    if user is None:
        raise HTTPException(401, SIGN_IN_REQUIRED)
    return user


def require_role(roles: tuple[str, ...], refusal: str) -> Callable[[StaffUser], StaffUser]:
    """Dependency for routes that need one of `roles`: 401 without a session, 403 (`refusal`) without
    the role."""

    def check(user: Annotated[StaffUser, Depends(require_staff)]) -> StaffUser:
        if user.role not in roles:
            raise HTTPException(403, refusal)
        return user

    return check


StaffDep = Annotated[StaffUser, Depends(require_staff)]
EditorDep = Annotated[
    StaffUser, Depends(require_role(EDITOR_ROLES, "編集権限が必要です / editor role required"))
]
ApproverDep = Annotated[
    StaffUser, Depends(require_role(APPROVER_ROLES, "承認権限が必要です / approver role required"))
]
AdminDep = Annotated[
    StaffUser, Depends(require_role(ADMIN_ROLES, "管理者権限が必要です / admin role required"))
]
OptionalStaffDep = Annotated[StaffUser | None, Depends(current_staff)]


# ---- sign-in ----------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.hashing = anyio.CapacityLimiter(HASHING_AT_ONCE)
    yield


@dataclass(frozen=True)
class SignInCandidate:
    """What sign-in learnt before checking the password."""

    user: StaffUser | None
    wait: int  # seconds until the attempt may be made (0: now)


def _candidate(session: Session, attempt: Attempt, policy: ThrottlePolicy) -> SignInCandidate:
    user = session.scalar(select(StaffUser).where(StaffUser.username_key == attempt.username_key))
    since = user.last_login_at if user is not None else None
    return SignInCandidate(user, login_throttle.retry_after(session, attempt, policy, utcnow(), since))


def _failed(session: Session, attempt: Attempt, reason: str, origin: audit.Origin) -> None:
    login_throttle.record_failure(session, attempt, reason, utcnow())
    audit.record(
        session,
        audit.Actor(attempt.username[:64], "none"),
        origin,
        "staff.sign_in_failed",
        "staff_user",
        attempt.username_key,
        {"note": reason},
    )


def _signed_in(
    session: Session,
    user_id: int,
    policy: SessionPolicy,
    previous: str | None,
    origin: audit.Origin,
    agent: str,
) -> tuple[StaffUser, str]:
    now = utcnow()
    user = session.get_one(StaffUser, user_id)
    user.last_login_at = now
    token = staff_sessions.start(
        session, user, policy, now, previous=previous, client=origin.client, user_agent=agent
    )
    audit.record(session, audit.Actor.of(user), origin, "staff.sign_in", "staff_user", user.id, now=now)
    staff_sessions.purge(session, now)
    login_throttle.purge(session, now)
    return user, token


async def check_password(request: Request, username: str, password: str) -> StaffUser | int | None:
    """The user when `password` is right, the seconds to wait when the attempt is throttled, None when
    it is wrong (the failure is recorded). Unknown and known usernames take the same work."""
    settings: Settings = request.app.state.settings
    address = client_of(request)
    attempt = Attempt(
        username=username,
        username_key=username_key(username),
        client=masked_address(address),
        client_key=login_throttle.client_key(request.app.state.secret, address),
    )
    candidate: SignInCandidate = await request.app.state.db.run(
        _candidate, attempt, ThrottlePolicy.from_settings(settings)
    )
    if candidate.wait:
        log.warning("sign-in throttled", extra={"username": attempt.username[:64], "client": attempt.client})
        return candidate.wait
    stored = candidate.user.password_hash if candidate.user is not None else _UNKNOWN_USER_HASH
    ok = await anyio.to_thread.run_sync(verify_password, password, stored, limiter=request.app.state.hashing)
    if ok and candidate.user is not None and candidate.user.disabled_at is None:
        return candidate.user
    reason = "unknown_user" if candidate.user is None else "disabled" if ok else "password"
    await request.app.state.db.run(_failed, attempt, reason, audit.Origin.of(request))
    log.warning("sign-in failed", extra={"username": attempt.username[:64], "client": attempt.client})
    return None


async def sign_in(request: Request, user: StaffUser) -> str:
    """Open a session for `user` in this browser, rotating its token (the previous one's session, if
    any, ends; the audit log records the sign-in); returns the new token for `session_cookie`."""
    _, token = await request.app.state.db.run(
        _signed_in,
        user.id,
        SessionPolicy.from_settings(request.app.state.settings),
        request.cookies.get(COOKIE),
        audit.Origin.of(request),
        request.headers.get("user-agent", ""),
    )
    return str(token)


def session_cookie(request: Request, response: Response, token: str) -> None:
    """Set the cookie of a signed-in session (it lasts as long as the session may)."""
    settings: Settings = request.app.state.settings
    lifetime = SessionPolicy.from_settings(settings).lifetime
    staff_sessions.set_cookie(
        response, token, secure=_secure(settings), max_age=int(lifetime.total_seconds())
    )


def _secure(settings: Settings) -> bool:
    return settings.app_env == "production"


router = APIRouter(tags=["auth"])


def sign_in_redirect(request: Request) -> RedirectResponse:
    """For a staff page opened without a session: the sign-in page, then back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def _safe_next(target: str | None) -> str:
    """A path on this site to go to after sign-in ("/" for anything else)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target if "\\" not in target and target.isprintable() else "/"


def _login_page(request: Request, next_: str, error: str | None, status: int = 200) -> Response:
    """The sign-in form; a browser without a token cookie gets one (the form's CSRF token needs it)."""
    token = request.cookies.get(COOKIE)
    fresh = None if staff_sessions.well_formed(token) else staff_sessions.new_token()
    context = {
        "next": _safe_next(next_),
        "error": error,
        "form_token": csrf_token(request.app.state.secret, fresh or str(token)),
    }
    page = render(request, "pages/login.html.j2", context, status_code=status)
    if fresh is not None:
        staff_sessions.set_cookie(page, fresh, secure=_secure(request.app.state.settings))
    return page


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return _login_page(request, next, None)


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=MAX_LENGTH * 4)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    outcome = await check_password(request, username, password)
    if isinstance(outcome, int):
        page = _login_page(request, next, LOCKED.format(minutes=max(1, (outcome + 59) // 60)), 429)
        page.headers["Retry-After"] = str(outcome)
        return page
    if outcome is None:
        return _login_page(request, next, WRONG, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    session_cookie(request, response, await sign_in(request, outcome))
    return response


def _signed_out(session: Session, token: str, actor: audit.Actor, origin: audit.Origin) -> None:
    if staff_sessions.revoke(session, token, "logout", utcnow()) and actor.name:
        audit.record(session, actor, origin, "staff.sign_out", "staff_user", actor.name)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, user: OptionalStaffDep) -> Response:
    token = request.cookies.get(COOKIE)
    if staff_sessions.well_formed(token):
        await request.app.state.db.run(_signed_out, token, audit.Actor.of(user), audit.Origin.of(request))
    response = RedirectResponse("/login", status_code=303)
    staff_sessions.clear_cookie(response, secure=_secure(request.app.state.settings))
    return response


class SessionView(BaseModel):
    """The signed-in browser: who, with which role, and the token its unsafe requests carry."""

    user: str
    role: str
    csrf_token: str


def session_view(request: Request, user: StaffUser, token: str | None = None) -> SessionView:
    token = token or request.cookies.get(COOKIE) or ""
    return SessionView(
        user=user.username, role=user.role, csrf_token=csrf_token(request.app.state.secret, token)
    )


@router.get(
    "/api/v1/session",
    response_model=SessionView,
    responses={401: {"description": "Not signed in"}},
)
def get_session(request: Request, user: StaffDep) -> SessionView:
    """The signed-in staff member and the CSRF token for `X-CSRF-Token`."""
    return session_view(request, user)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=MAX_LENGTH * 4)
    new_password: str = Field(max_length=MAX_LENGTH * 4)


def _change(session: Session, user_id: int, new_password: str, origin: audit.Origin) -> None:
    user = session.get_one(StaffUser, user_id)
    set_password(session, user, new_password)
    audit.record(session, audit.Actor.of(user), origin, "staff.password_change", "staff_user", user.id)


@router.post(
    "/api/v1/session/password",
    response_model=SessionView,
    responses={
        401: {"description": "Not signed in, or the current password is wrong"},
        422: {"description": "The new password is too weak: `detail` says why"},
        429: {"description": "Too many wrong passwords"},
    },
)
async def change_password(request: Request, user: StaffDep, body: PasswordChange) -> Any:
    """Change one's own password: every session of the account ends, this browser gets a new one
    (answered with its new CSRF token)."""
    problems = password_problems(body.new_password, user.username)
    if problems:
        raise HTTPException(422, problems)
    outcome = await check_password(request, user.username, body.current_password)
    if isinstance(outcome, int):
        raise HTTPException(
            429, LOCKED.format(minutes=max(1, (outcome + 59) // 60)), {"Retry-After": str(outcome)}
        )
    if outcome is None:
        raise HTTPException(401, "現在のパスワードが違います / The current password is wrong")
    await request.app.state.db.run(_change, user.id, body.new_password, audit.Origin.of(request))
    token = await sign_in(request, outcome)
    response = JSONResponse(session_view(request, outcome, token).model_dump())
    session_cookie(request, response, token)
    return response
