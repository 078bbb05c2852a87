"""JSON views of posts and deliveries (times shown in Asia/Tokyo) for the API and the CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.tokyo_time import to_jst
from notifier.ledger_tables import Delivery, Post

# A pending delivery this late, or a sending one whose lease ran out, is "overdue": no worker got to it.
OVERDUE_AFTER = dt.timedelta(seconds=60)


def is_overdue(delivery: Delivery, now: dt.datetime) -> bool:
    if delivery.state == "pending":
        return delivery.run_at < now - OVERDUE_AFTER
    if delivery.state == "sending":
        return delivery.lease_until is not None and delivery.lease_until < now
    return False


def show_json(post: Post) -> dict[str, Any]:
    """`python -m notifier post show ID --json`: exactly id, state and the deliveries' outcome."""
    return {
        "id": post.id,
        "state": post.state,
        "deliveries": [
            {"channel": d.channel, "state": d.state, "platform_id": d.platform_id, "error": d.error}
            for d in post.deliveries
        ],
    }


def recipients(delivery: Delivery, topic: str | None) -> int | None:
    """How many residents a LINE topic delivery reached or is reaching (its chunks' recipients; 0 when
    sent to a topic nobody subscribes to); None where the platform decides (broadcasts, SNS)."""
    if delivery.channel != "line" or topic is None:
        return None
    if delivery.parts:
        return sum(p.recipient_count for p in delivery.parts)
    return 0 if delivery.state == "sent" else None


def delivery_view(delivery: Delivery, now: dt.datetime, topic: str | None = None) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "account": delivery.account,
        "state": delivery.state,
        "platform_id": delivery.platform_id,
        "error": delivery.error,
        "attempts": delivery.attempts,
        "run_at": to_jst(delivery.run_at),
        "sent_at": to_jst(delivery.sent_at),
        "overdue": is_overdue(delivery, now),
        "recipients": recipients(delivery, topic),
    }


def audit_fields(post: Post) -> dict[str, Any]:
    """What the audit log compares before and after a post action (`app.audit.changes`)."""
    return {
        "state": post.state,
        "approval": post.approval_state,
        "title": post.title,
        "body": post.body,
        "link": post.link,
        "topic": post.topic,
        "urgency": post.urgency,
        "channels": list(post.channels or []),
        "scheduled_at": to_jst(post.scheduled_at),
        "channel_texts": dict(post.channel_texts or {}),
        "variants": {v.language: f"{v.title}\n{v.body}" for v in post.variants},
    }


def approval_view(post: Post) -> dict[str, Any]:
    """`approval` of a post's JSON: its state, who approved it and when (also for an emergency
    published on one approver's word), why it was rejected or published as an emergency, who it waits
    for, and the review of an emergency."""
    decided = post.approval_state in ("approved", "emergency")
    return {
        "state": post.approval_state,
        "approved_by": post.decided_by if decided else None,
        "approved_at": to_jst(post.decided_at) if decided else None,
        "reason": post.approval_reason,
        "rejected_by": post.decided_by if post.approval_state == "rejected" else None,
        "submitted_by": post.submitted_by,
        "submitted_at": to_jst(post.submitted_at),
        "review": (
            {
                "needed": post.reviewed_at is None,
                "reviewed_by": post.reviewed_by,
                "reviewed_at": to_jst(post.reviewed_at),
            }
            if post.approval_state == "emergency"
            else None
        ),
    }


def post_view(post: Post, now: dt.datetime) -> dict[str, Any]:
    """The full post for the staff API."""
    return {
        "id": post.id,
        "state": post.state,
        "title": post.title,
        "body": post.body,
        "link": post.link,
        "topic": post.topic,
        "urgency": post.urgency,
        "channels": list(post.channels),
        "scheduled_at": to_jst(post.scheduled_at),
        "author": post.author,
        "created_at": to_jst(post.created_at),
        "updated_at": to_jst(post.updated_at),
        "variants": {v.language: {"title": v.title, "body": v.body} for v in post.variants},
        "channel_texts": dict(post.channel_texts or {}),
        "deliveries": [delivery_view(d, now, post.topic) for d in post.deliveries],
        "approval": approval_view(post),
    }
