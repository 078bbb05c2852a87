"""Posts and their deliveries in the database: create, schedule, edit, duplicate, cancel, resolve.

The post's state machine (`notifier.ledger_tables`), one function per transition:

| from                      | call              | to                                              |
|---------------------------|-------------------|-------------------------------------------------|
| (nothing)                 | `create_post`     | `draft` (time optional), or `scheduled`         |
| `draft`                   | `schedule_post`   | `scheduled` (its time, a new one, or now)       |
| `draft`, `awaiting_approval`, `scheduled` | `edit_post` | the same state, every field replaced   |
| `draft`, `awaiting_approval`, `scheduled` | `cancel_post` | `cancelled`                          |
| any                       | `duplicate_post`  | a new `draft` with the same content, no time    |
| `scheduled` → `sending` → `done`: the workers (`notifier.delivery.claims`, `refresh_post_state`)   |

With APPROVAL_REQUIRED, `notifier.post_approval` stands between `draft` and `scheduled`: creating a
post submits it (`awaiting_approval`, no deliveries), another person approves it (`scheduled`) or
rejects it (`draft` again), and editing an approved post sends it back.

Scheduling writes the post and one delivery per channel account in ONE transaction, each with its
stable idempotency key and the texts rendered (and length-checked) now. A post can be edited,
scheduled or cancelled only while none of its deliveries has started; that check and the change happen
under the deliveries' row locks (SQLite: `BEGIN IMMEDIATE`), so a worker cannot claim one in between.
Refusals (`LedgerError`) are worded for staff: Japanese first, then English.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from app.settings import Settings
from notifier.channels.channel_registry import CHANNELS
from notifier.compose import PostIn, PreparedPost, VariantIn, prepare
from notifier.ledger_tables import FINAL_STATES, Delivery, DeliveryAttempt, Post, PostVariant
from notifier.problem_texts import jst_text
from storage.db import write_lock


class LedgerError(ValueError):
    """A request the post's current state does not allow; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


POST_STATE_WORDS = {
    "draft": "下書き / draft",
    "awaiting_approval": "承認待ち / awaiting approval",
    "scheduled": "予約済み / scheduled",
    "sending": "配信中 / sending",
    "done": "完了 / done",
    "cancelled": "取消済み / cancelled",
}
DELIVERY_STATE_WORDS = {
    "pending": "待機中 / pending",
    "sending": "送信中 / sending",
    "sent": "送信済み / sent",
    "failed": "失敗 / failed",
    "unknown": "要確認 / unknown",
    "cancelled": "取消 / cancelled",
}


def create_post(
    session: Session,
    prepared: PreparedPost,
    *,
    author: str,
    draft: bool = False,
    approval_required: bool = False,
    now: dt.datetime | None = None,
) -> Post:
    """Store a prepared post; unless `draft`, also its deliveries (the caller commits), or, when
    `approval_required`, submit it for approval instead (no deliveries). A draft keeps "no time" as no
    time: it goes out when it is scheduled."""
    post = Post(author=author, state="draft")
    post.approval_state = "not_submitted" if approval_required else "not_required"
    apply_prepared(post, prepared, draft=draft or approval_required)
    session.add(post)
    if approval_required and not draft:
        submitted(post, author, now or prepared.scheduled_at)
    elif not draft:
        schedule_deliveries(post, prepared)
    session.flush()
    return post


def submitted(post: Post, by: str, now: dt.datetime) -> None:
    """Mark `post` as waiting for someone other than `by` (and its author) to approve it."""
    post.state = post.approval_state = "awaiting_approval"
    post.submitted_by, post.submitted_at = by, now
    post.decided_by = post.decided_at = None
    post.deliveries = []


def apply_prepared(post: Post, prepared: PreparedPost, *, draft: bool) -> None:
    """Copy a prepared post's fields onto `post` (a draft keeps "no time" as no time)."""
    data = prepared.post
    post.title, post.body, post.link, post.topic = data.title, data.body, data.link, data.topic
    post.urgency, post.channels = data.urgency, list(data.channels)
    post.scheduled_at = (data.scheduled_at and prepared.scheduled_at) if draft else prepared.scheduled_at
    post.channel_texts = {k: v.strip() for k, v in data.channel_texts.items() if v.strip()}
    post.variants = [PostVariant(language=k, title=v.title, body=v.body) for k, v in data.variants.items()]


def schedule_deliveries(post: Post, prepared: PreparedPost) -> None:
    """`scheduled`, with one pending delivery per channel account and its texts rendered now."""
    post.state = "scheduled"
    post.scheduled_at = prepared.scheduled_at
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
        "channel_texts": dict(post.channel_texts or {}),
    }
    data.update(changes)
    return PostIn.model_validate(data)


LOADED = (selectinload(Post.variants), selectinload(Post.deliveries).selectinload(Delivery.parts))


def load(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id, options=list(LOADED))
    if post is None:
        raise LedgerError(f"お知らせ No. {post_id} はありません / no post with id {post_id}", status=404)
    return post


ACTIONS = {"edit": "編集", "schedule": "予約", "cancel": "取り消し"}


def lock_unstarted(session: Session, post_id: int, action: str) -> Post:
    """Lock the post's deliveries; refuse when any has started (claimed, attempted or finished) or the
    post is cancelled."""
    write_lock(session)
    rows = session.scalars(select(Delivery).where(Delivery.post_id == post_id).with_for_update()).all()
    post = load(session, post_id)
    ja = ACTIONS[action]
    if post.state == "cancelled":
        raise LedgerError(f"No. {post_id} は取り消されているため{ja}できません / post {post_id} is cancelled")
    started = [d.channel for d in rows if d.state != "pending" or d.attempts > 0]
    if started:
        where = ", ".join(started)
        raise LedgerError(
            f"No. {post_id} は {where} で配信が始まっているため{ja}できません / "
            f"cannot {action} post {post_id}: delivery already started on {where}"
        )
    return post


def edit_post(
    session: Session, post_id: int, data: PostIn, settings: Settings, now: dt.datetime, *, by: str = ""
) -> Post:
    """Replace every field of a draft or a not-yet-started post (caller commits); it keeps its state,
    except that a post approved (or published as an emergency) goes back for approval when approval
    is required: what was approved is not what would be published any more."""
    post = lock_unstarted(session, post_id, "edit")
    prepared = prepare(data, settings, now)
    held = post.state in ("draft", "awaiting_approval")
    if settings.approval_required and post.state == "scheduled" and post.approval_state != "not_required":
        held = True
        submitted(post, by or post.author, now)
        session.flush()
    elif post.state == "awaiting_approval":
        post.submitted_by, post.submitted_at = by or post.submitted_by, now
    apply_prepared(post, prepared, draft=held)
    if not held:
        post.deliveries = []
        session.flush()  # old rows go before new ones take their (post, channel, account) slots
        schedule_deliveries(post, prepared)
    session.flush()
    return post


def schedule_post(
    session: Session, post_id: int, settings: Settings, now: dt.datetime, scheduled_at: Any = "keep"
) -> Post:
    """Turn a draft into a scheduled post: at its own time ("keep"; a draft without one goes out now),
    at a new time, or now (None)."""
    post = lock_unstarted(session, post_id, "schedule")
    if post.state != "draft":
        state = POST_STATE_WORDS.get(post.state, post.state)
        raise LedgerError(
            f"No. {post_id} は下書きではありません({state})/ post {post_id} is {post.state}, not a draft"
        )
    when = post.scheduled_at if scheduled_at == "keep" else scheduled_at
    prepared = prepare(as_input(post, scheduled_at=when), settings, now)
    apply_prepared(post, prepared, draft=False)
    schedule_deliveries(post, prepared)
    session.flush()
    return post


def duplicate_post(session: Session, post_id: int, *, author: str, approval_required: bool = False) -> Post:
    """A new draft with the content, channels and texts of post `post_id` and no time (caller commits)."""
    source = load(session, post_id)
    copy = Post(
        author=author,
        state="draft",
        approval_state="not_submitted" if approval_required else "not_required",
        title=source.title,
        body=source.body,
        link=source.link,
        topic=source.topic,
        urgency=source.urgency,
        channels=list(source.channels),
        scheduled_at=None,
        channel_texts=dict(source.channel_texts or {}),
        variants=[PostVariant(language=v.language, title=v.title, body=v.body) for v in source.variants],
    )
    session.add(copy)
    session.flush()
    return copy


def cancel_post(session: Session, post_id: int) -> Post:
    """Cancel a post none of whose deliveries has started."""
    post = lock_unstarted(session, post_id, "cancel")
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
    stmt = select(Post).options(*LOADED)
    if state:
        stmt = stmt.where(Post.state == state)
    if before_id:
        stmt = stmt.where(Post.id < before_id)
    return list(session.scalars(stmt.order_by(Post.id.desc()).limit(limit)))


def count_posts(session: Session) -> int:
    return int(session.scalar(select(func.count(Post.id))) or 0)


RESOLUTIONS = ("sent", "resend", "failed")
RESEND_REQUESTED = "resend_requested"  # an audit row of delivery_attempts without a call


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
        raise LedgerError(f"配信 {delivery_id} はありません / no delivery with id {delivery_id}", status=404)
    allowed = ("unknown",) if outcome == "sent" else ("unknown", "failed")
    if outcome not in RESOLUTIONS:
        raise LedgerError(
            f"対応は {', '.join(RESOLUTIONS)} のどれかです / outcome must be one of {', '.join(RESOLUTIONS)}",
            status=422,
        )
    if delivery.state not in allowed:
        state = DELIVERY_STATE_WORDS.get(delivery.state, delivery.state)
        words = "・".join(DELIVERY_STATE_WORDS[s] for s in allowed)
        raise LedgerError(
            f"配信 {delivery_id} は{state}です。この対応ができるのは {words} の配信だけです / "
            f"delivery {delivery_id} is {delivery.state}; only {'/'.join(allowed)} can be {outcome}"
        )
    note = f"{outcome} by {by} at {jst_text(now)}"
    who = f"{by}、{jst_text(now)}"
    if outcome == "sent":
        delivery.state, delivery.platform_id, delivery.sent_at = "sent", platform_id, now
        delivery.error = f"投稿を確認済み({who})/ confirmed {note}"
    elif outcome == "resend":
        was = delivery.error
        delivery.state, delivery.run_at = "pending", now
        delivery.error = f"再送を指示({who})/ {note}; was: {was}"
        delivery.lease_owner = delivery.lease_until = None
        # A person checked the account and found no post: the next worker publishes again instead
        # of treating the earlier unclear call as possibly published (`claims.load_job`).
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                worker=f"staff:{by}"[:100],
                started_at=now,
                finished_at=now,
                outcome=RESEND_REQUESTED,
            )
        )
    else:
        delivery.state, delivery.error = (
            "failed",
            f"失敗として処理({who})/ marked {note}; was: {delivery.error}",
        )
    session.flush()
    refresh_post_state(session, delivery.post_id)
    if outcome == "resend":
        session.execute(update(Post).where(Post.id == delivery.post_id).values(state="sending"))
    return delivery
