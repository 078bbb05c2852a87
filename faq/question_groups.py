"""Unanswered questions grouped by similarity, with the matcher's own features (pure functions).

Each question becomes its set of content terms (`faq.tokenize.terms`: normalised, synonyms folded,
stop words dropped), weighted by the corpus idf the matcher uses (a term the FAQ lacks weighs the
most: it is likely what the FAQ is missing). Two questions are alike when the idf-weighted Jaccard
similarity of their terms reaches `SIMILAR`. Leader clustering, most-asked question first, so a group
is named by its most frequent question; the work is bounded by `MAX_QUESTIONS` × groups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from faq.tokenize import terms

SIMILAR = 0.5
MAX_QUESTIONS = 1000
EXAMPLES = 5


@dataclass(frozen=True)
class Asked:
    """One logged question: its row id, masked text, language, count and first/last time seen."""

    id: int
    text: str
    lang: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass
class Group:
    """Similar questions: the ids (for actions), the total count, examples (most asked first)."""

    lang: str
    ids: list[int] = field(default_factory=list)
    count: int = 0
    examples: list[str] = field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(self, q: Asked) -> None:
        self.ids.append(q.id)
        self.count += q.count
        if len(self.examples) < EXAMPLES and q.text not in self.examples:
            self.examples.append(q.text)
        self.first_seen = min(self.first_seen or q.first_seen, q.first_seen)
        self.last_seen = max(self.last_seen or q.last_seen, q.last_seen)


def similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """Idf-weighted Jaccard similarity of two weighted term sets."""
    union = sum(a.values()) + sum(w for t, w in b.items() if t not in a)
    common = sum(w for t, w in a.items() if t in b)
    return common / union if union else 0.0


def group(
    questions: Sequence[Asked], weight: Callable[[str, str], float], *, similar: float = SIMILAR
) -> list[Group]:
    """Groups of similar questions (per language), the most asked first."""
    ordered = sorted(questions, key=lambda q: (-q.count, -q.last_seen.timestamp(), q.id))[:MAX_QUESTIONS]
    leaders: list[tuple[dict[str, float], Group]] = []
    for q in ordered:
        bag = {t: weight(t, q.lang) for t in terms(q.text)}
        best, best_sim = None, similar
        for lead, g in leaders:
            if g.lang != q.lang:
                continue
            sim = similarity(bag, lead) if bag else float(not lead)
            if sim >= best_sim:
                best, best_sim = g, sim
        if best is None:
            best = Group(q.lang)
            leaders.append((bag, best))
        best.add(q)
    groups = [g for _, g in leaders]
    groups.sort(key=lambda g: (-g.count, -(g.last_seen.timestamp() if g.last_seen else 0.0)))
    return groups
