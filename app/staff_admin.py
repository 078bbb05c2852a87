"""Staff management in the browser (admin only): `/staff` and `/api/v1/staff…`, and the one-time
set-password link (`/set-password?token=…`).

- `GET /api/v1/staff`: every account with its role, last sign-in, open sessions, disabled or not.
- `POST /api/v1/staff` `{"username", "role"}`: a new account without a typed password; the answer
  carries `set_password_url`, shown once (only its SHA-256 is stored, valid PASSWORD_LINK_HOURS).
- `POST /api/v1/staff/{id}/role` `{"role"}`, `/disable`, `/enable`, `/sign-out` (end every session),
  `/password-link` (a new link, e.g. for a forgotten password).
- Disabling ends the account's sessions at once (and `app.staff_sessions.resolve` refuses a disabled
  account's session whatever happens). An admin cannot demote or disable themself, and the last
  enabled admin cannot be demoted or disabled: someone must be able to manage accounts.

Every change is recorded in the audit log (`app.audit`), in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit, staff_sessions
from app.auth import (
    AdminDep,
    OptionalStaffDep,
    UserError,
    create_staff_user,
    session_cookie,
    set_password,
    sign_in,
    sign_in_redirect,
)
from app.deps import SessionDep
from app.password_policy import MAX_LENGTH
from app.staff_sessions import SessionPolicy
from app.staff_tables import ROLE_WORDS, ROLES, StaffSession, StaffUser
from app.templating import render
from app.tokyo_time import to_jst
from storage.base import utcnow

router = APIRouter(tags=["staff"])
Role = Literal["admin", "approver", "editor", "viewer"]
UserId = Annotated[int, Path(ge=1, le=2**62)]
LAST_ADMIN = (
    "有効な管理者が 1 人もいなくなるため変更できません / "
    "refused: no enabled admin would be left to manage accounts"
)
SELF = "自分自身の役割変更・無効化はできません / you cannot demote or disable your own account"


class NewStaff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    role: Role = "editor"


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


def _link_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _new_link(request: Request, user: StaffUser, now: dt.datetime) -> str:
    """A fresh one-time set-password link for `user` (any earlier one stops working)."""
    token = staff_sessions.new_token()
    user.password_link_hash = _link_hash(token)
    user.password_link_expires_at = now + dt.timedelta(hours=request.app.state.settings.password_link_hours)
    return f"{request.app.state.settings.public_base_url.rstrip('/')}/set-password?token={token}"


def staff_view(user: StaffUser, sessions_open: int = 0) -> dict[str, Any]:
    """One account as the API shows it."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "role_label": ROLE_WORDS.get(user.role, user.role),
        "disabled": user.disabled_at is not None,
        "disabled_at": to_jst(user.disabled_at),
        "last_login_at": to_jst(user.last_login_at),
        "created_at": to_jst(user.created_at),
        "sessions": sessions_open,
        "password_link_pending": user.password_link_hash is not None,
    }


def _open_sessions(session: Session, request: Request) -> dict[int, int]:
    policy = SessionPolicy.from_settings(request.app.state.settings)
    now = utcnow()
    rows = session.execute(
        select(StaffSession.user_id, func.count())
        .where(
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at > now - policy.idle,
        )
        .group_by(StaffSession.user_id)
    ).all()
    return {int(user_id): int(n) for user_id, n in rows}


def _enabled_admins(session: Session) -> int:
    stmt = select(func.count(StaffUser.id)).where(StaffUser.role == "admin", StaffUser.disabled_at.is_(None))
    return int(session.scalar(stmt) or 0)


def _target(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        raise HTTPException(404, f"職員アカウント {user_id} はありません / no staff account {user_id}")
    return user


def _keeps_an_admin(session: Session, admin: StaffUser, user: StaffUser, losing_admin: bool) -> None:
    if user.id == admin.id:
        raise HTTPException(409, SELF)
    if losing_admin and user.role == "admin" and user.disabled_at is None and _enabled_admins(session) <= 1:
        raise HTTPException(409, LAST_ADMIN)


def _audited(
    session: Session,
    request: Request,
    admin: StaffUser,
    action: str,
    user: StaffUser,
    summary: dict[str, Any],
) -> None:
    audit.record(
        session, audit.Actor.of(admin), audit.Origin.of(request), action, "staff_user", user.id, summary
    )


@router.get("/api/v1/staff", summary="Staff accounts (admin)")
def list_staff(request: Request, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    counts = _open_sessions(session, request)
    users = session.scalars(select(StaffUser).order_by(StaffUser.username_key)).all()
    return {"staff": [staff_view(u, counts.get(u.id, 0)) for u in users], "roles": list(ROLES)}


@router.post("/api/v1/staff", status_code=201, summary="Create a staff account with a set-password link")
def create_staff(request: Request, body: NewStaff, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    """The answer's `set_password_url` is shown once: give it to the account's holder."""
    try:
        user = create_staff_user(session, username=body.username, password=None, role=body.role)
    except UserError as exc:
        raise HTTPException(422, str(exc)) from None
    link = _new_link(request, user, utcnow())
    _audited(session, request, admin, "staff.create", user, {"changes": {"role": [None, user.role]}})
    session.commit()
    return {**staff_view(user), "set_password_url": link}


@router.post("/api/v1/staff/{user_id}/role", summary="Change a staff account's role")
def change_role(
    request: Request, user_id: UserId, body: RoleIn, admin: AdminDep, session: SessionDep
) -> dict[str, Any]:
    user = _target(session, user_id)
    _keeps_an_admin(session, admin, user, losing_admin=body.role != "admin")
    before = user.role
    user.role = body.role
    _audited(
        session,
        request,
        admin,
        "staff.role",
        user,
        {"changes": audit.changes({"role": before}, {"role": body.role})},
    )
    session.commit()
    return staff_view(user)


@router.post("/api/v1/staff/{user_id}/disable", summary="Disable an account: its sessions end at once")
def disable(request: Request, user_id: UserId, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    user = _target(session, user_id)
    _keeps_an_admin(session, admin, user, losing_admin=True)
    now = utcnow()
    if user.disabled_at is None:
        user.disabled_at = now
        user.password_link_hash = user.password_link_expires_at = None
        ended = staff_sessions.revoke_all(session, user.id, "disabled", now)
        summary = {"changes": {"disabled": [False, True]}, "note": f"{ended} session(s) ended"}
        _audited(session, request, admin, "staff.disable", user, summary)
    session.commit()
    return staff_view(user)


@router.post("/api/v1/staff/{user_id}/enable", summary="Enable a disabled account again")
def enable(request: Request, user_id: UserId, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    user = _target(session, user_id)
    if user.disabled_at is not None:
        user.disabled_at = None
        _audited(session, request, admin, "staff.enable", user, {"changes": {"disabled": [True, False]}})
    session.commit()
    return staff_view(user)


@router.post("/api/v1/staff/{user_id}/sign-out", summary="End every session of an account")
def force_sign_out(request: Request, user_id: UserId, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    user = _target(session, user_id)
    ended = staff_sessions.revoke_all(session, user.id, "admin", utcnow())
    _audited(session, request, admin, "staff.sign_out_forced", user, {"note": f"{ended} session(s) ended"})
    session.commit()
    return {**staff_view(user), "ended": ended}


@router.post("/api/v1/staff/{user_id}/password-link", summary="A new one-time set-password link")
def password_link(request: Request, user_id: UserId, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    user = _target(session, user_id)
    if user.disabled_at is not None:
        raise HTTPException(409, "無効なアカウントです / the account is disabled")
    link = _new_link(request, user, utcnow())
    _audited(session, request, admin, "staff.password_link", user, {})
    session.commit()
    return {**staff_view(user), "set_password_url": link}


def admin_page(request: Request, staff: StaffUser | None, page: str, context: dict[str, Any]) -> Response:
    """An admin's page: the sign-in page without a session, 403 (a page saying so) for other roles."""
    if staff is None:
        return sign_in_redirect(request)
    if staff.role != "admin":
        return render(request, "pages/forbidden.html.j2", context, status_code=403)
    return render(request, page, context)


@router.get("/staff", response_class=HTMLResponse, include_in_schema=False)
def staff_page(request: Request, staff: OptionalStaffDep) -> Response:
    return admin_page(request, staff, "pages/staff.html.j2", {"active": "staff", "roles": ROLE_WORDS})


# ---- the one-time set-password link -----------------------------------------------------------


def _holder(session: Session, token: str) -> StaffUser | None:
    """The enabled account whose unexpired link this is."""
    if not staff_sessions.well_formed(token):
        return None
    user = session.scalar(select(StaffUser).where(StaffUser.password_link_hash == _link_hash(token)))
    if user is None or user.disabled_at is not None or user.password_link_expires_at is None:
        return None
    if user.password_link_expires_at < utcnow() or not hmac.compare_digest(
        user.password_link_hash or "", _link_hash(token)
    ):
        return None
    return user


def _set_page(
    request: Request, token: str, user: StaffUser | None, error: str | None, status: int
) -> Response:
    context = {"token": token if user else None, "username": user.username if user else "", "error": error}
    return render(request, "pages/set_password.html.j2", context, status_code=status)


@router.get("/set-password", response_class=HTMLResponse, include_in_schema=False)
def set_password_page(request: Request, session: SessionDep, token: str = "") -> Response:
    user = _holder(session, token[:100])
    return _set_page(request, token, user, None, 200 if user else 404)


def _use_link(session: Session, token: str, password: str, origin: audit.Origin) -> StaffUser | str | None:
    user = _holder(session, token)
    if user is None:
        return None
    try:
        set_password(session, user, password)
    except UserError as exc:
        return str(exc)
    user.password_link_hash = user.password_link_expires_at = None
    audit.record(session, audit.Actor.of(user), origin, "staff.password_set", "staff_user", user.id)
    return user


@router.post("/set-password", include_in_schema=False)
async def set_password_form(
    request: Request,
    token: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=MAX_LENGTH * 4)],
    password_again: Annotated[str, Form(max_length=MAX_LENGTH * 4)],
) -> Response:
    """Set the password with the one-time link, forget the link, and sign in."""
    if password != password_again:
        user = await request.app.state.db.read(_holder, token)
        return _set_page(request, token, user, "パスワードが一致しません / The passwords do not match", 422)
    outcome = await request.app.state.db.run(_use_link, token, password, audit.Origin.of(request))
    if outcome is None:
        return _set_page(request, token, None, None, 404)
    if isinstance(outcome, str):
        user = await request.app.state.db.read(_holder, token)
        return _set_page(request, token, user, f"設定できません / Not set: {outcome}", 422)
    response = RedirectResponse("/", status_code=303)
    session_cookie(request, response, await sign_in(request, outcome))
    return response
