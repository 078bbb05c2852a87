"""Reconciliation: look again for `unknown` deliveries among the account's recent posts.

Right after an unclear call the engine looks once; a platform's timeline can lag, so this periodic job
looks again for a day. Found → `sent` with the platform's id. Never found → stays `unknown` for a person.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifier.channels.channel_base import Channel, Outgoing
from notifier.channels.channel_registry import CHANNELS, build
from notifier.delivery.delivery_parts import DbPartStore
from notifier.ledger_tables import Delivery, DeliveryAttempt, Post
from notifier.periodic_jobs import JobContext, periodic
from notifier.post_ledger import refresh_post_state
from platforms.call_errors import ChannelError

log = logging.getLogger(__name__)
LOOK_BACK = dt.timedelta(days=1)
BATCH = 50


def unknown_recent(session: Session, now: dt.datetime) -> list[tuple[Delivery, Post]]:
    rows = session.execute(
        select(Delivery, Post)
        .join(Post, Post.id == Delivery.post_id)
        .where(Delivery.state == "unknown", Delivery.first_attempt_at >= now - LOOK_BACK)
        .order_by(Delivery.id)
        .limit(BATCH)
    ).all()
    return [(d, p) for d, p in rows]


def mark_found(session: Session, delivery_id: int, platform_id: str, worker: str, now: dt.datetime) -> bool:
    """`unknown` → `sent`, with an audit row; False if someone resolved it meanwhile."""
    done = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == "unknown")
        .values(
            state="sent",
            platform_id=platform_id,
            sent_at=now,
            error="found in recent posts by reconciliation",
        )
        .returning(Delivery.post_id)
    ).first()
    if done is None:
        return False
    session.add(
        DeliveryAttempt(
            delivery_id=delivery_id, worker=worker, started_at=now, finished_at=now, outcome="reconciled"
        )
    )
    refresh_post_state(session, done.post_id)
    return True


async def reconcile_once(ctx: JobContext, channels: dict[str, Channel] | None = None) -> int:
    """Look up every recent `unknown` delivery once; returns how many were found."""
    rows = await ctx.db.run(unknown_recent, ctx.now)
    found = 0
    opened: dict[str, Channel] = {}
    try:
        for delivery, post in rows:
            if delivery.channel not in CHANNELS:
                continue
            channel = (channels or {}).get(delivery.channel) or opened.setdefault(
                delivery.channel, build(delivery.channel, ctx.settings)
            )
            out = Outgoing(
                delivery_id=delivery.id,
                key=delivery.idempotency_key,
                texts=delivery.payload["texts"],
                link=post.link,
                topic=post.topic,
                attempt=delivery.attempts,
                resumed=True,
                first_attempt_at=delivery.first_attempt_at,
                # a thread's posts found now are recorded, so a resend posts only the missing ones
                parts=DbPartStore(
                    ctx.db,
                    delivery.id,
                    f"{delivery.channel}:{delivery.account}",
                    worker=ctx.worker,
                    lease=ctx.settings.notifier_lease_seconds,
                ),
            )
            try:
                platform_id = await channel.find_sent(out, delivery.first_attempt_at or ctx.now - LOOK_BACK)
            except ChannelError as exc:
                log.info("reconciliation lookup failed for delivery %s: %s", delivery.id, exc.reason)
                continue
            mark = (mark_found, delivery.id, platform_id, ctx.worker, ctx.now)
            if platform_id is not None and await ctx.db.run(*mark):
                found += 1
    finally:
        for channel in opened.values():
            await channel.aclose()
    return found


@periodic("notifier.delivery.reconcile", every=dt.timedelta(minutes=5))
async def reconcile_job(ctx: JobContext) -> None:
    """Periodic job: reconcile `unknown` deliveries."""
    if found := await reconcile_once(ctx):
        log.info("reconciliation found %d unknown deliveries on their platforms", found)
