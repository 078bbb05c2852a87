"""The worker's database steps on the ledger (synchronous; each runs in its own short transaction).

`claim` is ONE statement: `UPDATE deliveries … WHERE id IN (SELECT … ORDER BY priority DESC, run_at
LIMIT n FOR UPDATE SKIP LOCKED) RETURNING id` — the `FOR UPDATE SKIP LOCKED` part is rendered only on
PostgreSQL, where several workers then claim disjoint rows; SQLite runs the statement atomically.
Due rows are pending ones whose time has come and sending ones whose lease ran out (a dead worker).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from notifier.channels.channel_base import Published
from notifier.delivery.failure_policy import NextStep
from notifier.ledger_tables import Delivery, DeliveryAttempt, Post
from notifier.post_ledger import refresh_post_state
from platforms.call_errors import ChannelError, RateLimited
from storage import rate_budgets
from storage.leases import Lease
from storage.rate_budgets import Bucket

DELIVERY_LEASE = Lease(until=Delivery.lease_until, owner=Delivery.lease_owner)


@dataclass(frozen=True)
class ClaimedDelivery:
    """A claimed delivery with what sending it needs."""

    id: int
    post_id: int
    channel: str
    account: str
    key: str
    texts: dict[str, list[str]]
    link: str | None
    topic: str | None
    attempts: int
    first_attempt_at: dt.datetime | None
    interrupted: bool  # an earlier call never reported back (its worker died): it may have published
    last_outcome: str | None


def claim(
    session: Session,
    *,
    worker: str,
    now: dt.datetime,
    lease: float,
    limit: int,
    due_by: dt.datetime | None = None,
) -> list[int]:
    """Lease up to `limit` deliveries due by `due_by` (default: now) to `worker`, emergencies first."""
    due = or_(
        and_(Delivery.state == "pending", Delivery.run_at <= (due_by or now)),
        and_(Delivery.state == "sending", DELIVERY_LEASE.free(now)),
    )
    ids = (
        select(Delivery.id)
        .where(due)
        .order_by(Delivery.priority.desc(), Delivery.run_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(ids.scalar_subquery()))
        .values(state="sending", **DELIVERY_LEASE.take(worker, now, lease))
        .returning(Delivery.id, Delivery.priority, Delivery.run_at)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(stmt).all()
    return [r.id for r in sorted(rows, key=lambda r: (-r.priority, r.run_at, r.id))]


def next_due(session: Session) -> dt.datetime | None:
    """When the earliest pending delivery becomes due (None: nothing pending)."""
    when: dt.datetime | None = session.scalar(
        select(func.min(Delivery.run_at)).where(Delivery.state == "pending")
    )
    return when


def load_job(session: Session, delivery_id: int, *, worker: str, now: dt.datetime) -> ClaimedDelivery | None:
    """The claimed delivery (None if another worker holds it now); closes calls left open by a dead worker."""
    row = session.execute(
        select(Delivery, Post.link, Post.topic)
        .join(Post, Post.id == Delivery.post_id)
        .where(Delivery.id == delivery_id, DELIVERY_LEASE.held_by(worker), Delivery.state == "sending")
    ).first()
    if row is None:
        return None
    delivery, link, topic = row
    open_calls = session.scalars(
        select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id == delivery_id, DeliveryAttempt.outcome.is_(None)
        )
    ).all()
    for attempt in open_calls:
        attempt.outcome, attempt.finished_at = "interrupted", now
    last = session.scalar(
        select(DeliveryAttempt.outcome)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(1)
    )
    return ClaimedDelivery(
        id=delivery.id,
        post_id=delivery.post_id,
        channel=delivery.channel,
        account=delivery.account,
        key=delivery.idempotency_key,
        texts=delivery.payload["texts"],
        link=link,
        topic=topic,
        attempts=delivery.attempts,
        first_attempt_at=delivery.first_attempt_at,
        interrupted=bool(open_calls),
        last_outcome=None if open_calls else last,
    )


def start_attempt(
    session: Session,
    job: ClaimedDelivery,
    *,
    worker: str,
    rate_key: str,
    bucket: Bucket | None,
    now: dt.datetime,
    new_key: bool = True,
) -> tuple[int | None, float]:
    """Reserve the account's budget and record the call before making it: (attempt id, 0.0), or
    (None, seconds to wait) after handing the delivery back because the rate limit says not yet.
    `new_key`: the rate-limit row may not exist yet in this process's knowledge."""
    if new_key:
        rate_budgets.ensure(session, rate_key, bucket)
    wait = rate_budgets.reserve(session, rate_key, now.timestamp())
    if wait > 0:
        release(session, job.id, worker=worker, run_at=now + dt.timedelta(seconds=wait))
        return None, wait
    attempt = DeliveryAttempt(delivery_id=job.id, worker=worker, started_at=now)
    session.add(attempt)
    session.execute(
        update(Delivery)
        .where(Delivery.id == job.id)
        .values(
            attempts=Delivery.attempts + 1, first_attempt_at=func.coalesce(Delivery.first_attempt_at, now)
        )
    )
    session.execute(
        update(Post).where(Post.id == job.post_id, Post.state == "scheduled").values(state="sending")
    )
    session.flush()
    return attempt.id, 0.0


def release(session: Session, delivery_id: int, *, worker: str, run_at: dt.datetime) -> None:
    """Hand a claimed delivery back without having called the platform."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, DELIVERY_LEASE.held_by(worker), Delivery.state == "sending")
        .values(state="pending", run_at=run_at, **DELIVERY_LEASE.cleared())
    )


def renew(session: Session, delivery_id: int, *, worker: str, until: dt.datetime) -> bool:
    """Extend the lease during a long delivery (many LINE chunks); False if it was lost."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, DELIVERY_LEASE.held_by(worker), Delivery.state == "sending")
        .values(lease_until=until)
        .returning(Delivery.id)
    ).first()
    return result is not None


def finish(
    session: Session,
    job: ClaimedDelivery,
    decision: NextStep,
    *,
    worker: str,
    now: dt.datetime,
    attempt_id: int | None,
    sent: Published | None = None,
    error: ChannelError | None = None,
    rate_key: str | None = None,
) -> None:
    """Record the call's outcome and the delivery's next state."""
    if attempt_id is not None:
        _close_attempt(session, attempt_id, job.id, decision, now=now, sent=sent, error=error)
    values: dict[str, object] = {"state": decision.state, **DELIVERY_LEASE.cleared()}
    where: ColumnElement[bool]
    if decision.state == "sent":
        values.update(platform_id=sent.platform_id if sent else None, sent_at=now, error=_note(sent))
        where = Delivery.state.not_in(("sent", "cancelled"))  # the truth, even if our lease ran out
    else:
        values.update(error=decision.error)
        if decision.run_at is not None:
            values["run_at"] = decision.run_at
        if decision.outcome == "rate_limited" and attempt_id is not None:
            # the platform refused before doing anything: waiting for its reset costs no attempt
            values["attempts"] = Delivery.attempts - 1
        where = and_(DELIVERY_LEASE.held_by(worker), Delivery.state == "sending")
    session.execute(update(Delivery).where(Delivery.id == job.id, where).values(**values))
    if rate_key is not None:
        _observe_limits(session, rate_key, sent=sent, error=error, now=now)
    refresh_post_state(session, job.post_id)


def _note(sent: Published | None) -> str | None:
    return sent.note if sent else None


def _close_attempt(
    session: Session,
    attempt_id: int,
    delivery_id: int,
    decision: NextStep,
    *,
    now: dt.datetime,
    sent: Published | None,
    error: ChannelError | None,
) -> None:
    source = sent or error
    session.execute(
        update(DeliveryAttempt)
        .where(DeliveryAttempt.id == attempt_id)
        .values(
            outcome=decision.outcome,
            finished_at=now,
            http_status=getattr(source, "http_status", None),
            request_id=getattr(source, "request_id", None),
            error=error.reason if error else None,
        )
    )
    # a start that was retried after a database hiccup may have left a second, never-used row open
    session.execute(
        update(DeliveryAttempt)
        .where(
            DeliveryAttempt.delivery_id == delivery_id,
            DeliveryAttempt.outcome.is_(None),
            DeliveryAttempt.id != attempt_id,
        )
        .values(outcome="abandoned", finished_at=now)
    )


def _observe_limits(
    session: Session, key: str, *, sent: Published | None, error: ChannelError | None, now: dt.datetime
) -> None:
    if sent is not None and sent.rate is not None:
        rate = sent.rate
        rate_budgets.observe(session, key, remaining=rate.remaining, reset_at=rate.reset_at, now=now)
    elif isinstance(error, RateLimited) and error.retry_at is not None:
        rate_budgets.block(session, key, error.retry_at)
