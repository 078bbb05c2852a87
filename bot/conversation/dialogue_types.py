"""What the conversation takes and gives: the resident's action, their stored state, the context, and the
effects the caller stores (pure data)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.topics import Topic
from bot.conversation.line_messages import Message
from faq.answer_types import FaqService


@dataclass(frozen=True)
class Incoming:
    """What the resident did: kind text | postback | media | follow | unfollow, with its data."""

    kind: str
    data: str = ""


@dataclass(frozen=True)
class UserState:
    """What is stored about the resident (`known`: a row exists)."""

    known: bool = False
    language: str | None = None
    profile_language: str | None = None
    topics: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Context:
    """The topic catalog, the FAQ (None while it is not loaded), the nonce that identifies this
    answer for feedback, and the profile language fetched on follow."""

    topics: Sequence[Topic]
    faq: FaqService | None
    nonce: str = ""
    profile_language: str | None = None


# ---- effects: what the caller stores ----


@dataclass(frozen=True)
class Remember:
    profile_language: str | None


@dataclass(frozen=True)
class Forget:
    pass


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetTopics:
    topics: frozenset[str]


@dataclass(frozen=True)
class LogUnanswered:
    text: str
    lang: str
    score: float


@dataclass(frozen=True)
class Feedback:
    entry_id: str
    lang: str
    helpful: bool
    nonce: str


Effect = Remember | Forget | SetLanguage | SetTopics | LogUnanswered | Feedback


@dataclass(frozen=True)
class Turn:
    messages: list[Message] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
