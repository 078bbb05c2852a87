"""Conversations of higher areas inside the bot (the reports area's damage-report flow), without the bot
importing them: an area adds a `FlowHook` to `Preparer.hooks` in its lifespan.

For each event the preparer asks the hooks in order (inside the read that runs the conversation); the
first that takes the event gives the reply (`HookTurn.messages`) and what to store (`finish`, run once,
in the same transaction that keeps the reply, after the event was claimed: it may return the final
messages, e.g. a receipt naming the number the database just gave). With `then_default` the bot's
own conversation runs too (its messages follow): how a hook sees an unfollow and still lets the bot
forget the resident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

Message = dict[str, Any]
Finish = Callable[[Session], list[Message] | None]


@dataclass(frozen=True)
class HookEvent:
    """One event as a hook sees it: kind text | postback | media | follow | unfollow and its data (for
    media: `bot.intake.webhook_events.media_parts` gives the type and details), the LINE user of a
    one-to-one chat (None in groups and rooms), the channel ("line" or "simulator"), the webhook
    event ID and the resident's language."""

    kind: str
    data: str
    user_id: str | None
    channel: str
    event_id: str
    lang: str


@dataclass(frozen=True)
class HookTurn:
    messages: list[Message] = field(default_factory=list)
    finish: Finish | None = None
    then_default: bool = False


class FlowHook(Protocol):
    def take(self, session: Session, event: HookEvent) -> HookTurn | None:
        """The hook's turn for the event, or None to leave it to the next hook and the bot."""
