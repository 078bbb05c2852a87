"""The FAQ's answer to one question: the contract between the matcher and its users (bot, API, CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

DecisionKind = Literal["answer", "suggest", "fallback", "small_talk"]


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    question: str
    score: float
    label: str = ""  # the entry's quick-reply label (at most 20 characters)


@dataclass(frozen=True)
class Decision:
    """`answer`: confident; `suggest`: offer `suggestions` (top 3); `fallback`: say how to reach the city;
    `small_talk`: a greeting, thanks, … (`small_talk` names which) to answer kindly and never log."""

    decision: DecisionKind
    answer: str | None
    entry_id: str | None
    score: float
    suggestions: list[Suggestion] = field(default_factory=list)
    truncated: bool = False  # the question was cut to the maximum length before matching
    small_talk: str | None = None  # greeting | thanks | bot | praise | complaint | goodbye | ack

    def to_json(self) -> dict[str, Any]:
        """The `python -m faq ask --json` shape (unchanged: the labels and the small-talk kind are for
        the bot's replies)."""
        data = asdict(self)
        for key in ("truncated", "small_talk"):
            data.pop(key)
        for suggestion in data["suggestions"]:
            suggestion.pop("label")
        return data


class FaqEntryView(Protocol):
    """Read-only view of an entry (plain attributes and frozen dataclasses both satisfy it)."""

    @property
    def id(self) -> str: ...

    @property
    def question(self) -> str: ...

    @property
    def answer(self) -> str: ...

    @property
    def department(self) -> str | None: ...

    @property
    def url(self) -> str | None: ...

    @property
    def source(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def lang(self) -> str: ...  # the entry's language: `FaqService.entry` falls back to Japanese


class FaqService(Protocol):
    """What the bot and the API need from the FAQ."""

    def ask(self, question: str, *, lang: str = "ja") -> Decision: ...

    def entry(self, entry_id: str, *, lang: str = "ja") -> FaqEntryView | None: ...
