"""Failed sign-ins (table `staff_login_failures`) and the throttle they drive.

Failures are counted per username (since its last successful sign-in) and per client address, over
`LOOKBACK`. Once a count reaches its limit (`LOGIN_FAILURE_LIMIT`, `LOGIN_CLIENT_FAILURE_LIMIT`),
sign-in is refused (429, `Retry-After`) until `LOGIN_LOCKOUT_MINUTES` after the latest failure, and
each further failure doubles that (capped at `LOOKBACK`). Refused attempts are not failures: waiting
out the lock is enough. The password is not even checked while locked, so a locked account cannot be
guessed, also not with the right password.

Every failure is stored with the username as typed (cut), the client's masked address and a keyed hash
of the full address (what the per-address count uses; the address itself is not kept).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.settings import Settings
from app.staff_tables import LoginFailure

LOOKBACK = timedelta(hours=24)
KEEP = timedelta(days=90)  # failures are kept this long for review, then `purge` removes them


@dataclass(frozen=True)
class ThrottlePolicy:
    user_limit: int = 5
    client_limit: int = 20
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            user_limit=settings.login_failure_limit,
            client_limit=settings.login_client_failure_limit,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
        )


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the username's key (`app.auth.username_key`), the username as typed, the masked
    client address and the keyed hash of the full one."""

    username: str
    username_key: str
    client: str
    client_key: str


def client_key(secret: bytes, address: str) -> str:
    """A keyed hash of the client's address: equal addresses count together, the address is not kept."""
    return hmac.new(secret, b"login-client:" + address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def locked_until(count: int, limit: int, latest: datetime | None, lockout: timedelta) -> datetime | None:
    """When a lock from `count` failures (the latest at `latest`) ends; None below the limit (pure)."""
    if latest is None or count < limit:
        return None
    doublings = min(count - limit, 32)
    return latest + min(lockout * (1 << doublings), LOOKBACK)


def retry_after(
    session: Session, attempt: Attempt, policy: ThrottlePolicy, now: datetime, since: datetime | None
) -> int:
    """Seconds until `attempt` may try (0: now). `since`: the user's last successful sign-in (failures
    before it do not count against the username)."""
    start = now - LOOKBACK
    user_start = max(start, since) if since is not None else start
    per_user = session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.username_key == attempt.username_key, LoginFailure.at > user_start
        )
    ).one()
    per_client = session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.client_key == attempt.client_key, LoginFailure.at > start
        )
    ).one()
    ends = [
        locked_until(per_user[0], policy.user_limit, per_user[1], policy.lockout),
        locked_until(per_client[0], policy.client_limit, per_client[1], policy.lockout),
    ]
    latest = max((end for end in ends if end is not None), default=None)
    if latest is None or latest <= now:
        return 0
    return max(1, math.ceil((latest - now).total_seconds()))


def record_failure(session: Session, attempt: Attempt, reason: str, now: datetime) -> None:
    """Store one failed sign-in (`reason`: password | unknown_user). The caller commits."""
    session.add(
        LoginFailure(
            username=attempt.username[:64],
            username_key=attempt.username_key,
            client=attempt.client[:64],
            client_key=attempt.client_key,
            reason=reason,
            at=now,
        )
    )


def purge(session: Session, now: datetime) -> int:
    """Delete failures older than `KEEP`."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
