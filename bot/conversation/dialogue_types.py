"""What the conversation takes and gives: the resident's action, their stored state, the context, and the
effects the caller stores (pure data)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.topics import Topic
from bot.conversation.line_messages import Message
from faq.answer_types import Decision, FaqService


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
class Headline:
    """Disaster mode's headline (the city's words, usually Japanese) and its link."""

    headline: str
    link: str | None = None


@dataclass(frozen=True)
class Context:
    """The topic catalog, the FAQ (None while it is not loaded), the nonce that identifies this
    answer for feedback, the profile language fetched on follow, and disaster mode's headline when
    the mode is on."""

    topics: Sequence[Topic]
    faq: FaqService | None
    nonce: str = ""
    profile_language: str | None = None
    disaster: Headline | None = None


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


# What the FAQ's improvement loop learns (`faq.answer_log`): no user ID, only the reply's nonce.


@dataclass(frozen=True)
class RecordQuestion:
    """The FAQ's decision on a message, under the nonce of the reply that shows it (a fallback is
    also counted in the unanswered log)."""

    nonce: str
    question: str
    decision: Decision
    lang: str


@dataclass(frozen=True)
class RecordPick:
    """The resident tapped the suggestion `entry_id` offered in reply `nonce`."""

    nonce: str
    entry_id: str
    lang: str


@dataclass(frozen=True)
class RecordVote:
    """👍 (`helpful`) or 👎 on the answer shown in reply `nonce`."""

    nonce: str
    entry_id: str
    lang: str
    helpful: bool


Effect = Remember | Forget | SetLanguage | SetTopics | RecordQuestion | RecordPick | RecordVote


@dataclass(frozen=True)
class Turn:
    messages: list[Message] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
