"""Approval of posts by a second person (APPROVAL_REQUIRED), and the emergency rule.

| from                              | call            | to                                                |
|-----------------------------------|-----------------|---------------------------------------------------|
| `draft` (not submitted, rejected) | `submit`        | `awaiting_approval` (no deliveries)               |
| `awaiting_approval`               | `approve`       | `scheduled` (deliveries), approval `approved`     |
| `awaiting_approval`               | `reject`        | `draft`, approval `rejected` with the reason      |
| `draft`, `awaiting_approval`      | `emergency`     | `scheduled` now, approval `emergency` (to review) |
| approval `emergency`              | `mark_reviewed` | the same, no longer listed "to review"            |

Nobody approves a post they wrote or last changed (`own`): 403. An emergency (urgency `emergency`) may
go out at once on an approver's or admin's word with a stated reason; it stays listed in `to_review`
until someone other than that person marks it reviewed. When the time asked for has passed by the time
of approval, the post goes out at once (the approver saw the time in the queue). Refusals are
`LedgerError`s worded for staff, Japanese first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.settings import Settings
from notifier.compose import prepare
from notifier.ledger_tables import Post
from notifier.post_ledger import (
    LOADED,
    POST_STATE_WORDS,
    LedgerError,
    apply_prepared,
    as_input,
    lock_unstarted,
    schedule_deliveries,
    submitted,
)

EMERGENCY_ONLY = (
    "緊急ルールで公開できるのは緊急(urgency: emergency)のお知らせだけです / "
    "only an emergency post (urgency: emergency) can be published under the emergency rule"
)


def own(post: Post, username: str) -> bool:
    """Whether `username` wrote the post or last changed or submitted it (pure)."""
    return username in (post.author, post.submitted_by)


def _require_state(post: Post, states: tuple[str, ...], action_ja: str, action: str) -> None:
    if post.state not in states:
        shown = POST_STATE_WORDS.get(post.state, post.state)
        raise LedgerError(
            f"No. {post.id} は{shown}のため{action_ja}できません / "
            f"cannot {action} post {post.id}: it is {post.state}"
        )


def submit(
    session: Session,
    post_id: int,
    settings: Settings,
    now: dt.datetime,
    *,
    by: str,
    scheduled_at: Any = "keep",
) -> Post:
    """Ask for approval, at the draft's own time ("keep"), a new one, or as soon as approved (None):
    the post is checked as it would be scheduled (`prepare`), then waits."""
    post = lock_unstarted(session, post_id, "schedule")
    _require_state(post, ("draft",), "承認依頼", "submit")
    if scheduled_at != "keep":
        post.scheduled_at = scheduled_at
    prepare(as_input(post), settings, now)  # refuse now what could never be approved
    submitted(post, by, now)
    session.flush()
    return post


def approve(session: Session, post_id: int, settings: Settings, now: dt.datetime, *, by: str) -> Post:
    """Schedule a waiting post on a second person's word (403 for its author or last editor)."""
    post = lock_unstarted(session, post_id, "schedule")
    _require_state(post, ("awaiting_approval",), "承認", "approve")
    if own(post, by):
        raise LedgerError(
            f"自分が作成・変更したお知らせ No. {post.id} は承認できません。別の承認者に依頼してください / "
            f"you cannot approve post {post.id}: you wrote or last changed it; another approver must",
            status=403,
        )
    _publish(post, settings, now)
    post.approval_state, post.decided_by, post.decided_at = "approved", by, now
    post.approval_reason = None
    session.flush()
    return post


def _publish(post: Post, settings: Settings, now: dt.datetime, *, at_once: bool = False) -> None:
    when = (
        None if at_once or (post.scheduled_at is not None and post.scheduled_at < now) else post.scheduled_at
    )
    prepared = prepare(as_input(post, scheduled_at=when), settings, now)
    apply_prepared(post, prepared, draft=False)
    schedule_deliveries(post, prepared)


def reject(session: Session, post_id: int, now: dt.datetime, *, by: str, reason: str) -> Post:
    """Send a waiting post back to its author as a draft, with the reason."""
    post = lock_unstarted(session, post_id, "edit")
    _require_state(post, ("awaiting_approval",), "差し戻し", "reject")
    post.state, post.approval_state = "draft", "rejected"
    post.decided_by, post.decided_at, post.approval_reason = by, now, reason
    session.flush()
    return post


def emergency(
    session: Session, post_id: int, settings: Settings, now: dt.datetime, *, by: str, reason: str
) -> Post:
    """Publish an emergency post at once without a second person (the caller checked the role)."""
    post = lock_unstarted(session, post_id, "schedule")
    _require_state(post, ("draft", "awaiting_approval"), "緊急公開", "publish")
    if post.urgency != "emergency":
        raise LedgerError(EMERGENCY_ONLY, status=422)
    _publish(post, settings, now, at_once=True)
    post.approval_state, post.decided_by, post.decided_at = "emergency", by, now
    post.approval_reason = reason
    session.flush()
    return post


def mark_reviewed(session: Session, post_id: int, now: dt.datetime, *, by: str) -> Post:
    """Someone other than the person who published an emergency has looked at it afterwards."""
    post = session.get(Post, post_id, with_for_update=True)
    if post is None:
        raise LedgerError(f"お知らせ No. {post_id} はありません / no post with id {post_id}", status=404)
    if post.approval_state != "emergency" or post.reviewed_at is not None:
        raise LedgerError(
            f"No. {post_id} は確認待ちの緊急投稿ではありません / "
            f"post {post_id} is not an emergency waiting for review"
        )
    if by in (post.decided_by, post.author):
        raise LedgerError(
            f"自分が公開した緊急投稿 No. {post_id} は確認済みにできません / "
            f"someone other than who published post {post_id} must review it",
            status=403,
        )
    post.reviewed_by, post.reviewed_at = by, now
    session.flush()
    return post


def waiting(session: Session, limit: int = 100) -> list[Post]:
    """Posts waiting for approval, longest-waiting first."""
    stmt = select(Post).options(*LOADED).where(Post.state == "awaiting_approval")
    return list(session.scalars(stmt.order_by(Post.submitted_at, Post.id).limit(limit)))


def to_review(session: Session, limit: int = 100) -> list[Post]:
    """Emergencies published without a second person and not yet reviewed, oldest first."""
    stmt = select(Post).options(*LOADED).where(Post.approval_state == "emergency", Post.reviewed_at.is_(None))
    return list(session.scalars(stmt.order_by(Post.decided_at, Post.id).limit(limit)))


def waited_too_long(post: Post, settings: Settings, now: dt.datetime) -> bool:
    """Whether a waiting post has waited longer than APPROVAL_WAIT_WARNING_MINUTES (pure)."""
    if post.state != "awaiting_approval" or post.submitted_at is None:
        return False
    return now - post.submitted_at > dt.timedelta(minutes=settings.approval_wait_warning_minutes)
