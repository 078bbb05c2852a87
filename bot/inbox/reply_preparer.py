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
from bot.audience import effective_language
from bot.bot_tables import EVENTS
from bot.conversation import dialogue as cv
from bot.conversation.flow_hooks import Finish, FlowHook, HookEvent, HookTurn
from bot.inbox import inbox_store
from bot.inbox.inbox_store import Work
from bot.intake.deferred_events import DEFERRED
from bot.intake.webhook_events import InboxItem, UnknownEvent, masked, parse_event
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
    finish: Finish | None = None  # a hook's storing (`bot.conversation.flow_hooks`)


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
        self.hooks: list[FlowHook] = []  # other areas' flows, asked first (`bot.conversation.flow_hooks`)

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
        if outcome is None or isinstance(outcome, UnknownEvent):  # nothing to answer
            await self.db.write(inbox_store.finish, work.id)
        else:
            log.warning("webhook: an event was dead-lettered after the 200", extra={"dead": 1})
            await self.db.write(inbox_store.dead_letter, work.id, *outcome)
        return None

    async def prepare(self, work: Work, profile_language: str | None) -> list[dict[str, Any]]:
        """The messages to send for a pending event (empty when there is nothing to send, or when the
        event was prepared elsewhere)."""
        prepared = await self.db.read(self.compute, work, profile_language)
        stored: list[dict[str, Any]] | None = await self.db.write(self.store, work, prepared)
        return stored or []

    def compute(self, session: Session, work: Work, profile_language: str | None) -> PreparedReply:
        ctx = cv.Context(
            self.topics, self.faq(), nonce(work.event_id), profile_language, disaster_mode.headline(session)
        )
        state = load_state(session, work.user_id)
        hooked = self._hooked(session, work, state) if self.hooks else None
        if hooked is not None and not hooked.then_default:
            return PreparedReply(hooked.messages, [], hooked.finish)
        outcome = cv.handle(cv.Incoming(work.kind, work.data), state, ctx)
        if hooked is not None:
            return PreparedReply(hooked.messages + outcome.messages, outcome.effects, hooked.finish)
        return PreparedReply(outcome.messages, outcome.effects)

    def _hooked(self, session: Session, work: Work, state: cv.UserState) -> HookTurn | None:
        lang = effective_language(state.language, state.profile_language)
        if work.kind == "text" and state.language is None:
            lang = cv.text_language(work.data, lang)
        user = work.user_id if work.chat_id == work.user_id else None  # flows are for one-to-one chats
        event = HookEvent(work.kind, work.data, user, work.channel, work.event_id, lang)
        return next((turn for hook in self.hooks if (turn := hook.take(session, event)) is not None), None)

    def store(self, session: Session, work: Work, prepared: PreparedReply) -> list[dict[str, Any]] | None:
        """Mark the event prepared (or done, with nothing to send) and apply the effects, once: the
        messages to send, or None when the event was prepared elsewhere."""
        values: dict[str, Any] = {"payload": inbox_store.kept_payload(work), "kind": work.kind}
        if prepared.finish is None:  # the reply is known: one statement claims the event and keeps it
            values |= _outcome(prepared.messages)
        claimed = session.execute(
            update(EVENTS).where(EVENTS.c.id == work.id, EVENTS.c.status == "pending").values(**values)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        apply_effects(
            session,
            work.user_id,
            prepared.effects,
            channel=work.channel,
            event_ts=work.event_ts,
            retention=self.retention,
        )
        if prepared.finish is None:
            return prepared.messages
        final = prepared.finish(session)  # a hook's storing, once the event is ours
        messages = prepared.messages if final is None else final
        session.execute(update(EVENTS).where(EVENTS.c.id == work.id).values(**_outcome(messages)))
        return messages


def _outcome(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The inbox columns of a prepared reply, or of an event with nothing to send."""
    if messages:
        return {"status": "prepared", "outbox": json.dumps(messages, ensure_ascii=False)}
    return {"status": "done", "reply_token": None, "done_at": utcnow()}
