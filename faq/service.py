"""The FAQ service the bot, the API and the CLI call: `ask` and `entry` over an in-memory index.

The index is an immutable `Snapshot` (one `Matcher` per language); a refresh builds a new snapshot and
swaps one reference, so readers on any thread never see a half-built index and never wait for one.
With a `source`, the service checks the database's version stamp at most every `refresh_seconds`
and reloads when another process (or this one) edited the FAQ.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app.languages import fallback_chain
from faq.answer_text import fit_answer, small_talk
from faq.answer_types import Decision, Suggestion
from faq.corpus import Entry, parse_file
from faq.decide import SUGGESTIONS, decide
from faq.match import Matcher, Ranking, Reranker
from faq.normalize import clean, has_words, truncate
from faq.question_language import bridge, detect

log = logging.getLogger(__name__)

SEED_CORPUS = Path(__file__).resolve().parent / "data" / "suita_faq.jsonl"
RerankerFactory = Callable[[], Reranker]


class Source:
    """Where a service reloads from: a cheap version stamp and the full entry list."""

    def __init__(self, version: Callable[[], int], load: Callable[[], list[Entry]]) -> None:
        self.version = version
        self.load = load


@dataclass(frozen=True)
class Snapshot:
    version: int
    matchers: dict[str, Matcher]
    by_key: dict[tuple[str, str], Entry]

    @classmethod
    def build(
        cls, entries: Sequence[Entry], version: int = 0, reranker: RerankerFactory | None = None
    ) -> Snapshot:
        langs = sorted({e.lang for e in entries})
        matchers = {
            lang: Matcher([e for e in entries if e.lang == lang], reranker() if reranker else None)
            for lang in langs
        }
        return cls(version, matchers, {(e.id, e.lang): e for e in entries})


class FaqIndexService:
    """Concrete `faq.answer_types.FaqService`: thread-safe, cheap per call, refreshed from a `Source`."""

    def __init__(
        self,
        entries: Sequence[Entry],
        *,
        source: Source | None = None,
        version: int = 0,
        refresh_seconds: float = 2.0,
        reranker: RerankerFactory | None = None,
    ) -> None:
        self._reranker = reranker
        self._snapshot = Snapshot.build(entries, version, reranker)
        self._source = source
        self._refresh_seconds = refresh_seconds
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path = SEED_CORPUS) -> FaqIndexService:
        """A service over a corpus file, without a database (the CLI)."""
        return cls(parse_file(path))

    @classmethod
    def from_source(
        cls, source: Source, *, refresh_seconds: float = 2.0, reranker: RerankerFactory | None = None
    ) -> FaqIndexService:
        stamp = source.version()
        return cls(
            source.load(), source=source, version=stamp, refresh_seconds=refresh_seconds, reranker=reranker
        )

    @property
    def version(self) -> int:
        return self._snapshot.version

    def refresh(self, *, force: bool = False) -> None:
        """Reload from the source when its version changed (or always, with `force`)."""
        if self._source is None or not self._lock.acquire(blocking=force):
            return
        try:
            self._checked = time.monotonic()
            stamp = self._source.version()
            if force or stamp != self._snapshot.version:
                self._snapshot = Snapshot.build(self._source.load(), stamp, self._reranker)
                log.info("faq index reloaded", extra={"faq_version": stamp})
        except Exception:  # the old index keeps answering; the next check retries
            log.exception("faq index refresh failed")
        finally:
            self._lock.release()

    def _current(self) -> Snapshot:
        if self._source is not None and time.monotonic() - self._checked >= self._refresh_seconds:
            self.refresh()
        return self._snapshot

    def ask(self, question: str, *, lang: str = "ja", k: int = SUGGESTIONS) -> Decision:
        """Answer, suggest or fall back; never raises for any text. The question is cut to
        `MAX_QUESTION_CHARS` before anything else is done with it (bounded work for any input)."""
        snap = self._current()
        cut, truncated = truncate(question)
        text = clean(cut)
        if not has_words(text):
            return Decision("fallback", None, None, 0.0, [], truncated)
        chat = small_talk(text)
        if chat is not None:
            return Decision("small_talk", None, None, 1.0, [], truncated, small_talk=chat)
        asked_in = detect(text)
        queries = [(q, text) for q in (["en", "ja"] if asked_in == "en" else [asked_in])]
        if asked_in not in ("ja", "en") and (bridged := bridge(text, asked_in)) is not None:
            queries.append(("ja", bridged))  # no entries in that language: the Japanese ones, by glossary
        decisions = [
            self._decide(snap, lang_, query, truncated, k)
            for lang_, query in queries
            if lang_ in snap.matchers
        ]
        best = _best(decisions) or Decision("fallback", None, None, 0.0, [], truncated)
        # A question in another language than the resident's gets text in its own language where a
        # translation exists (else that language's fallback), whatever the setting.
        shown = _localise(best, snap, lang if asked_in == "ja" else asked_in)
        if shown.answer is not None:  # 「はい。」 only answers a yes/no question
            shown = replace(shown, answer=fit_answer(shown.answer, text))
        return shown

    def _decide(self, snap: Snapshot, lang: str, text: str, truncated: bool, k: int) -> Decision:
        matcher = snap.matchers[lang]
        ranking: Ranking = matcher.rank(text, max(k, 10))
        return decide(ranking, matcher.entries, truncated=truncated, suggestions=k)

    def rank(self, question: str, *, lang: str = "ja", k: int = 10) -> list[tuple[Entry, float]]:
        """The top `k` entries of one language with their fused scores (for staff tools and benches)."""
        matcher = self._current().matchers.get(lang)
        if matcher is None:
            return []
        ranking = matcher.rank(clean(truncate(question)[0]), k)
        return [(matcher.entries[c.index], c.score) for c in ranking.candidates]

    def term_weight(self, lang: str) -> Callable[[str], float]:
        """How much a term says in this language's corpus (idf); 1.0 for every term without one."""
        matcher = self._current().matchers.get(lang) or self._current().matchers.get("ja")
        return matcher.term_weight if matcher is not None else (lambda _term: 1.0)

    def entry(self, entry_id: str, *, lang: str = "ja") -> Entry | None:
        """The entry in `lang`, else in its fallback (`app.languages.fallback_chain`: English for the
        foreign languages), else in Japanese, else None."""
        return _in_language(self._current(), entry_id, lang)

    def entries(self) -> list[Entry]:
        return list(self._current().by_key.values())


def _best(decisions: list[Decision]) -> Decision | None:
    for kind in ("answer", "suggest"):
        found = [d for d in decisions if d.decision == kind]
        if found:
            return found[0]
    return max(decisions, key=lambda d: d.score, default=None)


def _in_language(snap: Snapshot, entry_id: str, lang: str) -> Entry | None:
    for step in fallback_chain(lang):
        if (entry := snap.by_key.get((entry_id, step))) is not None:
            return entry
    return None


def _localise(decision: Decision, snap: Snapshot, lang: str) -> Decision:
    """Show the resident's language where the matched entries have a translation (else its fallback)."""
    if decision.entry_id is not None:
        entry = _in_language(snap, decision.entry_id, lang)
        if entry is not None:
            decision = replace(decision, answer=entry.answer)
    suggestions = []
    for s in decision.suggestions:
        shown = _in_language(snap, s.entry_id, lang)
        suggestions.append(Suggestion(s.entry_id, shown.question, s.score, shown.label) if shown else s)
    return replace(decision, suggestions=suggestions)
