"""The delivery ledger: posts, one delivery per post and channel account, attempts, LINE recipient chunks,
per-account rate-limit state, worker heartbeats and periodic-job runs; staff edits and review marks of the
emergency templates' texts.

Post states (`notifier.post_ledger` makes every change): `draft` (no deliveries; a time is optional)
→ (`awaiting_approval`, no deliveries, when APPROVAL_REQUIRED: `notifier.post_approval`)
→ `scheduled` (one pending delivery per channel) → `sending` (a delivery has started) → `done` (every
delivery final); `draft` and `scheduled` can be edited or become `cancelled` until a delivery starts.

Delivery states: `pending` (due at `run_at`) → `sending` (leased by a worker until `lease_until`) →
`sent` | `failed` | `unknown` (may or may not have been published: a person checks), or `cancelled`.
A person may send an `unknown` or `failed` one again (`pending`), or settle it as `sent` / `failed`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, UTCDateTime, utcnow

POST_STATES = ("draft", "awaiting_approval", "scheduled", "sending", "done", "cancelled")
# not_required: published without approval (APPROVAL_REQUIRED=false, or written before approval existed);
# not_submitted → awaiting_approval → approved | rejected (a draft again, with the reason);
# emergency: published at once by an approver under the emergency rule, to be reviewed by someone else
APPROVAL_STATES = ("not_required", "not_submitted", "awaiting_approval", "approved", "rejected", "emergency")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "unknown", "cancelled")
FINAL_STATES = ("sent", "failed", "unknown", "cancelled")
URGENCIES = ("normal", "emergency")


class Post(Base):
    """A news item written once and delivered to several channels."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    channels: Mapped[list[str]] = mapped_column(JSON)
    # the time to publish; NULL only for a draft saved without one (it goes out when scheduled)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Japanese text used instead of `body` on one channel (a shorter X or Bluesky version)
    channel_texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(24), default="draft")  # "awaiting_approval" is 17
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # approval (`notifier.post_approval`): one of APPROVAL_STATES, who last submitted (or changed) it and
    # who approved or rejected it; `approval_reason` is why it was rejected, or why an emergency went
    # out without a second person
    approval_state: Mapped[str] = mapped_column(String(24), default="not_required", index=True)
    submitted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approval_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # an emergency published without a second person is listed "to review" until someone else marks it
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    variants: Mapped[list[PostVariant]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostVariant.language"
    )
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Delivery.id"
    )


class PostVariant(Base):
    """The post in another language (the post's own title and body are Japanese)."""

    __tablename__ = "post_variants"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)

    post: Mapped[Post] = relationship(back_populates="variants")


class Delivery(Base):
    """One post on one channel account, with its own state, lease and platform id."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "channel", "account", name="uq_deliveries_post_channel_account"),
        Index("ix_deliveries_due", "state", "priority", "run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # rendered texts per language, fixed at scheduling
    state: Mapped[str] = mapped_column(String(16), default="pending")
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 1 = emergency
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the post's time; lag is measured from here
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)  # next time a worker may take it
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # API calls started
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    platform_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship(back_populates="deliveries")
    parts: Mapped[list[DeliveryPart]] = relationship(viewonly=True, order_by="DeliveryPart.seq")


class DeliveryAttempt(Base):
    """Audit trail: one row per API call. `outcome` stays NULL while the call is in flight, so a row
    left NULL by a dead worker tells its successor that the platform may already have the post."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class DeliveryPart(Base):
    """One API call of a delivery that needs several (LINE multicast chunks of 500 recipients; the
    posts of a thread on X, Mastodon and Bluesky, one per language).

    Snapshotted at the first send with a retry key each, so a retry never changes who gets which
    chunk. Recipient IDs are cleared once the chunk is sent (keep the minimum personal data). A
    thread's post keeps its `platform_id` (the next post replies to it)."""

    __tablename__ = "delivery_parts"
    __table_args__ = (UniqueConstraint("delivery_id", "seq", name="uq_delivery_parts_delivery_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # broadcast | multicast | post
    language: Mapped[str] = mapped_column(String(8))
    recipients: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    retry_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent
    request_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    platform_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class NotifierWorker(Base):
    """Heartbeat of a delivery worker, so staff can see whether any worker is alive."""

    __tablename__ = "notifier_workers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # standalone | in-app | once
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processed: Mapped[int] = mapped_column(Integer, default=0)


class JobRun(Base):
    """When a registered periodic job runs next, and which worker holds it now."""

    __tablename__ = "notifier_job_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


# An edit of an emergency template's text in one language (`notifier.template_revisions`): `draft` (saved,
# not submitted) → `awaiting_approval` (APPROVAL_REQUIRED) → `approved` | `rejected` (with the reason);
# `superseded` when a newer edit of the same language replaced it before a decision. At most one
# draft or awaiting revision per template and language. The latest approved one is the effective text.
REVISION_STATES = ("draft", "awaiting_approval", "approved", "rejected", "superseded")
OPEN_REVISION_STATES = ("draft", "awaiting_approval")


class TemplateRevision(Base):
    """One language's title and body of an emergency template as staff edited it."""

    __tablename__ = "emergency_template_revisions"
    __table_args__ = (Index("ix_emergency_template_revisions_text", "template_id", "language", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(24), index=True)
    # who approved or rejected it (for an edit approved at once when approval is off: its author), when, why
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class TemplateReview(Base):
    """A person checked one language of an emergency template: the text of `revision_id` (NULL: the
    shipped text). A later approved edit is a different text, so the mark no longer applies to it."""

    __tablename__ = "emergency_template_reviews"

    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("emergency_template_revisions.id", ondelete="CASCADE"), nullable=True
    )
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
