"""Posts and their deliveries in the database: create, schedule, edit, cancel, resolve, and views.

Scheduling writes the post and one delivery per channel account in ONE transaction, each with its
stable idempotency key and the texts rendered (and length-checked) now. A post can be edited or
cancelled only while none of its deliveries has started; that check and the change happen under the
deliveries' row locks (SQLite: `BEGIN IMMEDIATE`), so a worker cannot claim one in between.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from app.settings import Settings
from notifier.channels.channel_registry import CHANNELS
from notifier.compose import PostIn, PreparedPost, VariantIn, prepare
from notifier.ledger_tables import FINAL_STATES, Delivery, Post, PostVariant

JST = dt.timezone(dt.timedelta(hours=9), "JST")


class LedgerError(ValueError):
    """A request the post's current state does not allow; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def write_lock(session: Session) -> None:
    """SQLite: take the write lock now (`BEGIN IMMEDIATE`) unless this transaction already wrote and
    holds it. PostgreSQL relies on the row locks taken next."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def to_jst(value: dt.datetime | None) -> str | None:
    return value.astimezone(JST).isoformat() if value else None


def create_post(session: Session, prepared: PreparedPost, *, author: str, draft: bool = False) -> Post:
    """Store a prepared post; unless `draft`, also its deliveries (the caller commits)."""
    post = Post(author=author, state="draft")
    _apply(post, prepared)
    session.add(post)
    if not draft:
        _schedule(post, prepared)
    session.flush()
    return post


def _apply(post: Post, prepared: PreparedPost) -> None:
    data = prepared.post
    post.title, post.body, post.link, post.topic = data.title, data.body, data.link, data.topic
    post.urgency, post.channels, post.scheduled_at = data.urgency, list(data.channels), prepared.scheduled_at
    post.variants = [PostVariant(language=k, title=v.title, body=v.body) for k, v in data.variants.items()]


def _schedule(post: Post, prepared: PreparedPost) -> None:
    post.state = "scheduled"
    priority = 1 if post.urgency == "emergency" else 0
    post.deliveries = [
        Delivery(
            channel=name,
            account=prepared.accounts[name],
            idempotency_key=CHANNELS[name].new_key(),
            payload={"texts": prepared.texts[name]},
            state="pending",
            priority=priority,
            due_at=prepared.scheduled_at,
            run_at=prepared.scheduled_at,
            attempts=0,
        )
        for name in post.channels
    ]


def as_input(post: Post, **changes: Any) -> PostIn:
    """The stored post as POST.json (to edit, schedule or preview it again)."""
    data: dict[str, Any] = {
        "title": post.title,
        "body": post.body,
        "link": post.link,
        "topic": post.topic,
        "urgency": post.urgency,
        "channels": list(post.channels),
        "scheduled_at": post.scheduled_at,
        "variants": {v.language: VariantIn(title=v.title, body=v.body) for v in post.variants},
    }
    data.update(changes)
    return PostIn.model_validate(data)


def load(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id, options=[selectinload(Post.variants), selectinload(Post.deliveries)])
    if post is None:
        raise LedgerError(f"no post with id {post_id}", status=404)
    return post


def _lock_unstarted(session: Session, post_id: int, action: str) -> Post:
    """Lock the post's deliveries; refuse when any has started (claimed, attempted or finished)."""
    write_lock(session)
    rows = session.scalars(select(Delivery).where(Delivery.post_id == post_id).with_for_update()).all()
    post = load(session, post_id)
    if post.state == "cancelled":
        raise LedgerError(f"post {post_id} is cancelled")
    started = [d.channel for d in rows if d.state != "pending" or d.attempts > 0]
    if started:
        raise LedgerError(f"cannot {action} post {post_id}: delivery already started on {', '.join(started)}")
    return post


def edit_post(session: Session, post_id: int, data: PostIn, settings: Settings, now: dt.datetime) -> Post:
    """Replace a draft's or a not-yet-started post's content, channels and time (caller commits)."""
    post = _lock_unstarted(session, post_id, "edit")
    prepared = prepare(data, settings, now)
    _apply(post, prepared)
    if post.state != "draft":
        post.deliveries = []
        session.flush()  # old rows go before new ones take their (post, channel, account) slots
        _schedule(post, prepared)
    session.flush()
    return post


def schedule_post(
    session: Session, post_id: int, settings: Settings, now: dt.datetime, scheduled_at: Any = "keep"
) -> Post:
    """Turn a draft into a scheduled post (optionally at a new time; None = now)."""
    post = _lock_unstarted(session, post_id, "schedule")
    if post.state != "draft":
        raise LedgerError(f"post {post_id} is {post.state}, not a draft")
    when = post.scheduled_at if scheduled_at == "keep" else scheduled_at
    prepared = prepare(as_input(post, scheduled_at=when), settings, now)
    _apply(post, prepared)
    _schedule(post, prepared)
    session.flush()
    return post


def cancel_post(session: Session, post_id: int) -> Post:
    """Cancel a post none of whose deliveries has started."""
    post = _lock_unstarted(session, post_id, "cancel")
    post.state = "cancelled"
    for delivery in post.deliveries:
        delivery.state = "cancelled"
    session.flush()
    return post


def refresh_post_state(session: Session, post_id: int) -> None:
    """`sending` once a delivery has started, `done` when every delivery is final."""
    # Lock the post first: deliveries finishing at the same moment in other transactions then take
    # turns, and the last one sees every other's outcome (PostgreSQL, READ COMMITTED).
    session.execute(select(Post.id).where(Post.id == post_id).with_for_update())
    rows = session.execute(select(Delivery.state, Delivery.attempts).where(Delivery.post_id == post_id)).all()
    if not rows:
        return
    if all(state in FINAL_STATES for state, _ in rows):
        new = "done"
    elif any(state != "pending" or attempts > 0 for state, attempts in rows):
        new = "sending"
    else:
        return
    session.execute(
        update(Post)
        .where(Post.id == post_id, Post.state.in_(("scheduled", "sending")), Post.state != new)
        .values(state=new)
    )


def list_posts(
    session: Session, *, state: str | None = None, limit: int = 50, before_id: int | None = None
) -> list[Post]:
    """Newest first, with variants and deliveries loaded."""
    stmt = select(Post).options(selectinload(Post.variants), selectinload(Post.deliveries))
    if state:
        stmt = stmt.where(Post.state == state)
    if before_id:
        stmt = stmt.where(Post.id < before_id)
    return list(session.scalars(stmt.order_by(Post.id.desc()).limit(limit)))


def count_posts(session: Session) -> int:
    return int(session.scalar(select(func.count(Post.id))) or 0)


RESOLUTIONS = ("sent", "resend", "failed")


def resolve_delivery(
    session: Session,
    delivery_id: int,
    outcome: str,
    *,
    by: str,
    now: dt.datetime,
    platform_id: str | None = None,
) -> Delivery:
    """A person's decision on an `unknown` (or `failed`) delivery after checking the account:
    it was published (`sent`), publish it again (`resend`), or give up (`failed`)."""
    write_lock(session)
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise LedgerError(f"no delivery with id {delivery_id}", status=404)
    allowed = ("unknown",) if outcome == "sent" else ("unknown", "failed")
    if outcome not in RESOLUTIONS:
        raise LedgerError(f"outcome must be one of {', '.join(RESOLUTIONS)}", status=422)
    if delivery.state not in allowed:
        raise LedgerError(
            f"delivery {delivery_id} is {delivery.state}; only {'/'.join(allowed)} can be {outcome}"
        )
    note = f"{outcome} by {by} at {to_jst(now)}"
    if outcome == "sent":
        delivery.state, delivery.platform_id, delivery.sent_at = "sent", platform_id, now
        delivery.error = f"confirmed {note}"
    elif outcome == "resend":
        delivery.state, delivery.run_at, delivery.error = "pending", now, f"{note}; was: {delivery.error}"
        delivery.lease_owner = delivery.lease_until = None
    else:
        delivery.state, delivery.error = "failed", f"marked {note}; was: {delivery.error}"
    session.flush()
    refresh_post_state(session, delivery.post_id)
    if outcome == "resend":
        session.execute(update(Post).where(Post.id == delivery.post_id).values(state="sending"))
    return delivery
