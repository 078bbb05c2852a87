"""Durable sub-steps of one delivery (LINE multicast chunks, the posts of a thread): the engine's `PartStore`.

The first send snapshots the plan (who gets which chunk, in which language; which language each post
of a thread carries) with a retry key per part. A retry or a worker taking over after a crash reuses
the stored parts and keys, skips the ones already sent, and re-sends an unfinished one with its own
key, so the platform drops a repeat. A thread's post is recorded with its platform id, so the next
post replies to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifier.channels.channel_base import Part, PartPlan
from notifier.delivery import claims
from notifier.ledger_tables import DeliveryPart
from storage import rate_budgets
from storage.aio import AsyncDb
from storage.base import utcnow
from storage.rate_budgets import Bucket


class DbPartStore:
    """`PartStore` backed by `delivery_parts`, bound to one delivery (`account`: the rate-limit
    prefix `<channel>:<account>`; `worker` and `lease`: the lease a recorded part renews)."""

    def __init__(self, db: AsyncDb, delivery_id: int, account: str, *, worker: str, lease: float) -> None:
        self.db = db
        self.delivery_id = delivery_id
        self.account = account
        self.worker = worker
        self.lease = dt.timedelta(seconds=lease)
        self._known: set[str] = set()

    async def snapshot(self, plan: Callable[[Session], list[PartPlan]]) -> list[Part]:
        return await self.db.run(snapshot_parts, self.delivery_id, plan)

    async def mark_sent(self, done: list[tuple[Part, str | None]]) -> None:
        if done:
            marks = [(part, request_id, None) for part, request_id in done]
            await self.db.run(_mark_and_renew, self.delivery_id, self.worker, marks, self.lease)

    async def mark_published(self, part: Part, platform_id: str, request_id: str | None = None) -> None:
        marks = [(part, request_id, platform_id)]
        await self.db.run(_mark_and_renew, self.delivery_id, self.worker, marks, self.lease)

    async def throttle(self, endpoint: str, bucket: Bucket | None, calls: int = 1) -> None:
        key = f"{self.account}:{endpoint}"
        while True:
            wait = await self.db.run(_reserve, key, bucket, key not in self._known, calls)
            self._known.add(key)
            if wait <= 0:
                return
            await asyncio.sleep(wait)


def _reserve(session: Session, key: str, bucket: Bucket | None, create: bool, calls: int) -> float:
    if create:
        rate_budgets.ensure(session, key, bucket)
    return rate_budgets.reserve(session, key, utcnow().timestamp(), calls)


def _mark_and_renew(
    session: Session,
    delivery_id: int,
    worker: str,
    done: list[tuple[Part, str | None, str | None]],
    lease: dt.timedelta,
) -> None:
    now = utcnow()
    for part, request_id, platform_id in done:
        mark_part_sent(session, part.id, request_id, now, platform_id)
    claims.renew(session, delivery_id, worker=worker, until=now + lease)


def _to_part(row: DeliveryPart) -> Part:
    return Part(
        id=row.id,
        seq=row.seq,
        kind=row.kind,
        language=row.language,
        recipients=tuple(row.recipients or ()),
        retry_key=row.retry_key,
        sent=row.state == "sent",
        platform_id=row.platform_id,
    )


def load_parts(session: Session, delivery_id: int) -> list[Part]:
    rows = session.scalars(
        select(DeliveryPart).where(DeliveryPart.delivery_id == delivery_id).order_by(DeliveryPart.seq)
    ).all()
    return [_to_part(r) for r in rows]


def snapshot_parts(
    session: Session, delivery_id: int, plan: Callable[[Session], list[PartPlan]]
) -> list[Part]:
    """The stored parts, or the plan computed and stored now (one transaction)."""
    return load_parts(session, delivery_id) or store_parts(session, delivery_id, plan(session))


def store_parts(session: Session, delivery_id: int, plans: list[PartPlan]) -> list[Part]:
    """Store the plan with a fresh retry key per part (the snapshot is written once)."""
    rows = [
        DeliveryPart(
            delivery_id=delivery_id,
            seq=seq,
            kind=plan.kind,
            language=plan.language,
            recipients=list(plan.recipients) or None,
            recipient_count=len(plan.recipients),
            retry_key=plan.key or str(uuid.uuid4()),
            state="pending",
        )
        for seq, plan in enumerate(plans)
    ]
    session.add_all(rows)
    session.flush()
    return [_to_part(r) for r in rows]


def mark_part_sent(
    session: Session, part_id: int, request_id: str | None, now: dt.datetime, platform_id: str | None = None
) -> None:
    """Sent: keep the count, the request id and the platform id, forget who the recipients were."""
    session.execute(
        update(DeliveryPart)
        .where(DeliveryPart.id == part_id)
        .values(state="sent", request_id=request_id, sent_at=now, recipients=None, platform_id=platform_id)
    )
