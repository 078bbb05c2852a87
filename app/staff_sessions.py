"""Staff sessions kept on the server (table `staff_sessions`); the cookie carries only a random token.

- `start` at sign-in: a new token (the session ID is rotated: the browser's previous session, if any,
  is revoked), valid for `SessionPolicy.lifetime` and while used within `SessionPolicy.idle`.
- `resolve` on each request: the signed-in user, or None for an unknown, revoked or expired token.
- `revoke` (sign-out), `revoke_all` (password change, an administrator's "sign out everywhere", a
  disabled account: `app.staff_admin`), `active_sessions` (a list of a user's sessions).

Only SHA-256 of the token is stored, so the table cannot be used to sign in. Every browser that needs
one (the sign-in page, the simulator, staff pages) has a token, signed in or not: it also binds the
CSRF token (`app.csrf`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.settings import Settings
from app.staff_tables import StaffSession, StaffUser

COOKIE = "suita_session"
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
TOUCH_EVERY = timedelta(seconds=60)  # `last_seen_at` is written at most this often per session
KEEP_ENDED = timedelta(days=30)  # ended sessions stay listed this long, then `purge` removes them


@dataclass(frozen=True)
class SessionPolicy:
    """How long a staff session lasts: `idle` without a request, `lifetime` after sign-in."""

    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=8)

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_lifetime_hours),
        )


def new_token() -> str:
    """A fresh random cookie token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str | None) -> bool:
    """Whether a cookie value can be a token at all (anything else is ignored without a query)."""
    return token is not None and _TOKEN_SHAPE.fullmatch(token) is not None


def session_id(token: str) -> str:
    """The stored ID of a token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start(
    session: Session,
    user: StaffUser,
    policy: SessionPolicy,
    now: datetime,
    *,
    previous: str | None = None,
    client: str = "",
    user_agent: str = "",
) -> str:
    """Open a session for `user`; returns its token for the cookie. The browser's `previous` token's
    session (if it was one) is revoked: the ID changes at every sign-in. The caller commits."""
    if well_formed(previous):
        revoke(session, str(previous), "rotated", now)
    token = new_token()
    session.add(
        StaffSession(
            id=session_id(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
            client=client[:64],
            user_agent=user_agent[:200],
        )
    )
    return token


def resolve(session: Session, token: str, policy: SessionPolicy, now: datetime) -> StaffUser | None:
    """The user of a valid session (and its `last_seen_at` moved on, at most every `TOUCH_EVERY`), or
    None. The caller commits."""
    if not well_formed(token):
        return None
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.id == session_id(token))
    ).first()
    if row is None:
        return None
    staff_session, user = row[0], row[1]
    if not valid(staff_session, policy, now) or user.disabled_at is not None:
        return None
    if now - staff_session.last_seen_at >= TOUCH_EVERY:
        staff_session.last_seen_at = now
    return user


def valid(row: StaffSession, policy: SessionPolicy, now: datetime) -> bool:
    """Not revoked, within its lifetime, used within the idle timeout (pure)."""
    return row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + policy.idle


def revoke(session: Session, token: str, reason: str, now: datetime) -> bool:
    """End the session of `token` (sign-out); False when there was none still open."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_all(session: Session, user_id: int, reason: str, now: datetime) -> int:
    """End every open session of a user (password change; an administrator's "sign out everywhere";
    a disabled account). Returns how many were open."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_by_id(session: Session, stored_id: str, reason: str, now: datetime) -> bool:
    """End one session by its stored ID (as `active_sessions` lists it: an administrator's "force
    sign-out" of one browser)."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.id == stored_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(getattr(result, "rowcount", 0))


def active_sessions(
    session: Session, policy: SessionPolicy, now: datetime, user_id: int | None = None
) -> list[StaffSession]:
    """Open sessions (of one user, or everyone's), most recently used first."""
    stmt = select(StaffSession).where(
        StaffSession.revoked_at.is_(None),
        StaffSession.expires_at > now,
        StaffSession.last_seen_at > now - policy.idle,
    )
    if user_id is not None:
        stmt = stmt.where(StaffSession.user_id == user_id)
    return list(session.scalars(stmt.order_by(StaffSession.last_seen_at.desc())))


def purge(session: Session, now: datetime) -> int:
    """Delete sessions that ended (revoked or expired) more than `KEEP_ENDED` ago."""
    cutoff = now - KEEP_ENDED
    result = session.execute(
        delete(StaffSession).where(or_(StaffSession.expires_at < cutoff, StaffSession.revoked_at < cutoff))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_cookie(response: Response, token: str, *, secure: bool, max_age: int | None = None) -> None:
    """The cookie: HttpOnly, SameSite=Lax, Secure in production; `max_age` None: until the browser
    closes."""
    response.set_cookie(
        COOKIE, token, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
