"""Preparing one event's reply in one transaction (run in a worker thread): read the resident's state,
run the conversation, store its effects, keep the reply in the inbox and drop the resident's text.
After a crash, a prepared event is sent again from the inbox without running the conversation twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.topics import Topic
from bot import conversation as cv
from bot import inbox
from bot.inbox import Work
from bot.models import InboxEvent
from bot.state import apply_effects, load_state
from faq.types import FaqService
from storage.base import utcnow
from storage.db import begin_immediate


def nonce(event_id: str) -> str:
    """Identifies an answer for its 👍/👎 without identifying the resident."""
    return hashlib.sha256(f"feedback:{event_id}".encode()).hexdigest()[:16]


class Preparer:
    """Runs the conversation for stored events. `faq()` gives the FAQ service (None until loaded)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        topics: Sequence[Topic],
        faq: Callable[[], FaqService | None],
        lease: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.topics = list(topics)
        self.faq = faq
        self.lease = lease

    def prepare(self, work: Work, profile_language: str | None, owner: str) -> list[dict[str, Any]]:
        """The messages to send for a pending event (empty when there is nothing to send, or when
        another process got to it first)."""
        with self.sessions() as session:
            begin_immediate(session)
            row = session.get(InboxEvent, work.id)
            if row is None or row.status != "pending":
                return []
            ctx = cv.Context(self.topics, self.faq(), nonce(work.event_id), profile_language)
            state = load_state(session, work.user_id)
            outcome = cv.handle(cv.Incoming(work.kind, work.data), state, ctx)
            apply_effects(
                session, work.user_id, outcome.effects, channel=work.channel, event_ts=work.event_ts
            )
            row.payload = None
            if outcome.messages:
                row.status = "prepared"
                row.outbox = json.dumps(outcome.messages, ensure_ascii=False)
            else:
                row.status, row.reply_token, row.done_at = "done", None, utcnow()
            if work.chat_id:
                inbox.claim(session, work.chat_id, owner, self.lease)  # renew the lease
            session.commit()
            return outcome.messages
