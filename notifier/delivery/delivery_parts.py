"""Durable sub-steps of one delivery (LINE multicast chunks): the engine's `PartStore`.

The first send snapshots the plan (who gets which chunk, in which language) with a retry key per
chunk. A retry or a worker taking over after a crash reuses the stored chunks and keys, skips the
ones already sent, and re-sends an unfinished one with its own key, so the platform drops a repeat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifier.channels.channel_base import Part, PartPlan
from notifier.delivery import claims
from notifier.ledger_tables import DeliveryPart
from storage import rate_budgets
from storage.base import utcnow
from storage.rate_budgets import Bucket

if TYPE_CHECKING:
    from notifier.delivery.claims import ClaimedDelivery
    from notifier.delivery.dispatcher import Dispatcher


class DbPartStore:
    """`PartStore` backed by `delivery_parts`, bound to one claimed delivery."""

    def __init__(self, dispatcher: Dispatcher, job: ClaimedDelivery) -> None:
        self.dispatcher = dispatcher
        self.job = job
        self._known: set[str] = set()

    async def snapshot(self, plan: Callable[[Session], list[PartPlan]]) -> list[Part]:
        return await self.dispatcher.db.run(snapshot_parts, self.job.id, plan)

    async def mark_sent(self, done: list[tuple[Part, str | None]]) -> None:
        if done:
            lease = dt.timedelta(seconds=self.dispatcher.settings.notifier_lease_seconds)
            await self.dispatcher.db.run(_mark_and_renew, self.job.id, self.dispatcher.worker, done, lease)

    async def throttle(self, endpoint: str, bucket: Bucket | None, calls: int = 1) -> None:
        key = f"{self.job.channel}:{self.job.account}:{endpoint}"
        while True:
            wait = await self.dispatcher.db.run(_reserve, key, bucket, key not in self._known, calls)
            self._known.add(key)
            if wait <= 0:
                return
            await asyncio.sleep(wait)


def _reserve(session: Session, key: str, bucket: Bucket | None, create: bool, calls: int) -> float:
    if create:
        rate_budgets.ensure(session, key, bucket)
    return rate_budgets.reserve(session, key, utcnow().timestamp(), calls)


def _mark_and_renew(
    session: Session, delivery_id: int, worker: str, done: list[tuple[Part, str | None]], lease: dt.timedelta
) -> None:
    now = utcnow()
    for part, request_id in done:
        mark_part_sent(session, part.id, request_id, now)
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
            retry_key=str(uuid.uuid4()),
            state="pending",
        )
        for seq, plan in enumerate(plans)
    ]
    session.add_all(rows)
    session.flush()
    return [_to_part(r) for r in rows]


def mark_part_sent(session: Session, part_id: int, request_id: str | None, now: dt.datetime) -> None:
    """Sent: keep the count and the request id, forget who the recipients were."""
    session.execute(
        update(DeliveryPart)
        .where(DeliveryPart.id == part_id)
        .values(state="sent", request_id=request_id, sent_at=now, recipients=None)
    )
