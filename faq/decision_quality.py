"""Decision quality on labelled resident questions: answer rate, precision, suggestions, fallbacks.

The paraphrase set (`bench/data/faq_paraphrases.jsonl`) labels each question with the entries whose
answer answers it, or none (out of scope). `split` divides it deterministically into a tuning half
and a held-out half; `evaluate` counts what the service decided. Pure functions except `load`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from faq.answer_types import Decision

PARAPHRASES = Path(__file__).resolve().parent.parent / "bench" / "data" / "faq_paraphrases.jsonl"
SPLITS = ("tune", "held-out")


@dataclass(frozen=True)
class Labelled:
    """One resident question and the entry ids that answer it (empty: out of scope)."""

    id: str
    lang: str
    text: str
    answers: tuple[str, ...]

    @property
    def in_scope(self) -> bool:
        return bool(self.answers)

    @property
    def group(self) -> str:
        """Stratum of the split: the primary entry and language, or out-of-scope."""
        return f"{self.answers[0]}/{self.lang}" if self.answers else "oos"


def load(path: Path = PARAPHRASES) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Labelled(r["id"], r["lang"], r["text"], tuple(r["answers"])) for r in rows]


def localgov_half(query_id: str) -> str:
    """The fixed half of a localgovFAQ dev question: `tune` when the first byte of the SHA-256 of its
    id is even (76 of the 150 questions), else `held-out` (74)."""
    return SPLITS[hashlib.sha256(query_id.encode()).digest()[0] % 2]


def split(rows: Iterable[Labelled]) -> dict[str, list[Labelled]]:
    """Alternate within each stratum, in file order; a hash of the stratum picks who goes first."""
    out: dict[str, list[Labelled]] = {name: [] for name in SPLITS}
    seen: dict[str, int] = {}
    for row in rows:
        n = seen.get(row.group, hashlib.sha256(row.group.encode()).digest()[0] % 2)
        seen[row.group] = n + 1
        out[SPLITS[n % 2]].append(row)
    return out


@dataclass(frozen=True)
class Outcome:
    """What happened to one question: the decision kind and whether it served the resident."""

    row: Labelled
    decision: Decision

    @property
    def correct_answer(self) -> bool:
        return self.decision.decision == "answer" and self.decision.entry_id in self.row.answers

    @property
    def suggest_hit(self) -> bool:
        ids = {s.entry_id for s in self.decision.suggestions}
        return self.decision.decision == "suggest" and bool(ids & set(self.row.answers))


@dataclass(frozen=True)
class DecisionReport:
    """Rates over one set of questions (in-scope rates over in-scope questions, oos over oos)."""

    in_scope: int
    answered: int
    correct: int
    suggested: int
    suggest_hits: int
    fallback: int
    oos: int
    oos_answered: int
    oos_suggested: int

    @property
    def answer_rate(self) -> float:
        return self.answered / self.in_scope if self.in_scope else 0.0

    @property
    def precision(self) -> float:
        return self.correct / self.answered if self.answered else 1.0

    @property
    def suggest_hit_rate(self) -> float:
        return self.suggest_hits / self.suggested if self.suggested else 1.0

    @property
    def oos_answer_rate(self) -> float:
        return self.oos_answered / self.oos if self.oos else 0.0


def report(outcomes: Sequence[Outcome]) -> DecisionReport:
    ins = [o for o in outcomes if o.row.in_scope]
    oos = [o for o in outcomes if not o.row.in_scope]
    return DecisionReport(
        in_scope=len(ins),
        answered=sum(o.decision.decision == "answer" for o in ins),
        correct=sum(o.correct_answer for o in ins),
        suggested=sum(o.decision.decision == "suggest" for o in ins),
        suggest_hits=sum(o.suggest_hit for o in ins),
        fallback=sum(o.decision.decision == "fallback" for o in ins),
        oos=len(oos),
        oos_answered=sum(o.decision.decision == "answer" for o in oos),
        oos_suggested=sum(o.decision.decision == "suggest" for o in oos),
    )


def evaluate(ask: Callable[[str], Decision], rows: Iterable[Labelled]) -> list[Outcome]:
    return [Outcome(row, ask(row.text)) for row in rows]
