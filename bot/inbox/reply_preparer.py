"""Preparing one event's reply: read the resident's state and run the conversation (a read, in a worker
thread), then in one write keep the reply in the inbox, drop the resident's text and store the
conversation's effects. After a crash, a prepared event is sent again from the inbox without running
the conversation twice. The chat's lease guarantees one preparer per chat at a time; the write still
checks that the event is pending, so effects are never applied twice."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.topics import Topic
from bot import disaster_mode
from bot.bot_tables import EVENTS
from bot.conversation import dialogue as cv
from bot.inbox import inbox_store
from bot.inbox.inbox_store import Work
from bot.intake.deferred_events import DEFERRED
from bot.intake.webhook_events import InboxItem, masked, parse_event
from bot.residents import apply_effects, load_state
from faq.answer_types import FaqService
from faq.unanswered_log import Retention
from storage.aio import AsyncDb
from storage.base import utcnow

log = logging.getLogger(__name__)


def nonce(event_id: str) -> str:
    """Identifies a reply (the FAQ's decision, then a pick or a 👍/👎 on it) without identifying the
    resident."""
    return hashlib.sha256(f"feedback:{event_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PreparedReply:
    messages: list[dict[str, Any]]
    effects: list[cv.Effect]


class Preparer:
    """Runs the conversation for stored events. `faq()` gives the FAQ service (None until loaded);
    `retention` bounds the FAQ's question logs the effects write to."""

    def __init__(
        self,
        db: AsyncDb,
        topics: Sequence[Topic],
        faq: Callable[[], FaqService | None],
        retention: Retention | None = None,
    ) -> None:
        self.db = db
        self.topics = list(topics)
        self.faq = faq
        self.retention = retention

    async def parsed(self, work: Work) -> Work | None:
        """The work for an event stored before the SDK parsed it (`bot.intake.deferred_events`), or None
        once it is
        dead-lettered (the SDK refused it) or done (an event the bot does not act on)."""
        if work.kind != DEFERRED:
            return work
        try:
            outcome = parse_event(work.raw, work.channel) if work.raw is not None else None
        except Exception as exc:  # a bug in our parsing: a dead letter, as in the webhook
            log.exception("bot inbox: unexpected error while parsing")
            outcome = (f"internal error while parsing: {type(exc).__name__}", masked(work.raw))
        if isinstance(outcome, InboxItem):
            parts = ("kind", "data", "user_id", "reply_token", "redelivered")
            return replace(work, raw=None, **{k: getattr(outcome, k) for k in parts})
        if outcome is None:
            await self.db.write(inbox_store.finish, work.id)
        else:
            log.warning("webhook: an event was dead-lettered after the 200", extra={"dead": 1})
            await self.db.write(inbox_store.dead_letter, work.id, *outcome)
        return None

    async def prepare(self, work: Work, profile_language: str | None) -> list[dict[str, Any]]:
        """The messages to send for a pending event (empty when there is nothing to send, or when the
        event was prepared elsewhere)."""
        prepared = await self.db.read(self.compute, work, profile_language)
        stored = await self.db.write(self.store, work, prepared)
        return prepared.messages if stored else []

    def compute(self, session: Session, work: Work, profile_language: str | None) -> PreparedReply:
        ctx = cv.Context(
            self.topics, self.faq(), nonce(work.event_id), profile_language, disaster_mode.headline(session)
        )
        outcome = cv.handle(cv.Incoming(work.kind, work.data), load_state(session, work.user_id), ctx)
        return PreparedReply(outcome.messages, outcome.effects)

    def store(self, session: Session, work: Work, prepared: PreparedReply) -> bool:
        """Mark the event prepared (or done, with nothing to send) and apply the effects, once."""
        values: dict[str, Any] = {"payload": inbox_store.kept_payload(work), "kind": work.kind}
        if prepared.messages:
            values |= {"status": "prepared", "outbox": json.dumps(prepared.messages, ensure_ascii=False)}
        else:
            values |= {"status": "done", "reply_token": None, "done_at": utcnow()}
        claimed = session.execute(
            update(EVENTS).where(EVENTS.c.id == work.id, EVENTS.c.status == "pending").values(**values)
        )
        if not getattr(claimed, "rowcount", 0):
            return False
        apply_effects(
            session,
            work.user_id,
            prepared.effects,
            channel=work.channel,
            event_ts=work.event_ts,
            retention=self.retention,
        )
        return True
