"""Core tables: staff accounts, their sessions and failed sign-ins. Each area keeps its own models module
(see `storage.table_registry`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow

ROLES = ("admin", "approver", "editor", "viewer")  # each has the powers of those after it (`app.auth`)
ROLE_WORDS = {
    "admin": "管理者 / admin",
    "approver": "承認者 / approver",
    "editor": "編集者 / editor",
    "viewer": "閲覧者 / viewer",
}


class StaffUser(Base):
    """A city staff member who may use the console, the simulator and the JSON API. `username_key` (the
    name NFKC-normalised and case-folded, `app.auth.username_key`) is unique: `Editor1` and `editor1`
    are one account."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="editor")  # admin | approver | editor | viewer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a disabled account cannot sign in and its sessions ended when it was disabled
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a one-time set-password link (`app.staff_admin`): SHA-256 of its token and when it stops working
    password_link_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    password_link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """One signed-in browser. The cookie holds a random token; the row is keyed by its SHA-256, so the
    table alone cannot be used to sign in. A session is valid while `revoked_at` is NULL, `expires_at`
    (sign-in + `SESSION_LIFETIME_HOURS`) is ahead and `last_seen_at` is within `SESSION_IDLE_MINUTES`.
    Revoked and expired rows stay a while (for a list of sessions), then `app.staff_sessions.purge`
    removes them."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(token), hex
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # logout | password | rotated | admin | disabled: why the session ended early
    revoked_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    client: Mapped[str] = mapped_column(String(64), default="")  # masked address (app.client_address)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class LoginFailure(Base):
    """One failed sign-in: the username as typed (cut to 64), its key, the client's masked address and
    a keyed hash of the full address (the per-address throttle counts it; the address is not kept)."""

    __tablename__ = "staff_login_failures"
    __table_args__ = (
        Index("ix_staff_login_failures_key_at", "username_key", "at"),
        Index("ix_staff_login_failures_client_at", "client_key", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # password | unknown_user | disabled
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
