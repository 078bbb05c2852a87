"""The paraphrase set, its deterministic split and the decision-quality counts."""

from __future__ import annotations

import pytest

from faq.answer_types import Decision, DecisionKind, Suggestion
from faq.decision_quality import Labelled, Outcome, load, report, split
from faq.service import FaqIndexService

ROWS = load()


def test_the_set_has_what_the_brief_asks_for(suita: FaqIndexService) -> None:
    ids = {e.id for e in suita.entries()}
    ja = [r for r in ROWS if r.in_scope and r.lang == "ja"]
    en = [r for r in ROWS if r.in_scope and r.lang == "en"]
    oos = [r for r in ROWS if not r.in_scope]
    assert len(ja) >= 120 and len(en) >= 20 and len(oos) >= 30
    assert {a for r in ROWS for a in r.answers} <= ids  # every label is a real entry
    assert len({r.id for r in ROWS}) == len(ROWS) and len({r.text for r in ROWS}) == len(ROWS)


def test_split_is_deterministic_disjoint_and_balanced() -> None:
    halves = split(ROWS)
    assert halves == split(list(ROWS))
    tune, held = ({r.id for r in rows} for rows in halves.values())
    assert not tune & held and len(tune) + len(held) == len(ROWS)
    assert abs(len(tune) - len(held)) <= 0.1 * len(ROWS)
    for group in {r.group for r in ROWS}:  # each stratum alternates between the halves
        counts = [sum(r.group == group for r in rows) for rows in halves.values()]
        assert abs(counts[0] - counts[1]) <= 1, group


def labelled(answers: tuple[str, ...]) -> Labelled:
    return Labelled("q", "ja", "質問", answers)


def decision(kind: DecisionKind, entry_id: str | None = None, suggested: tuple[str, ...] = ()) -> Decision:
    answer = "回答" if kind == "answer" else None
    return Decision(kind, answer, entry_id, 0.5, [Suggestion(s, s, 0.5) for s in suggested])


@pytest.mark.parametrize(
    ("answers", "made", "correct", "hit"),
    [
        (("a", "b"), decision("answer", "b"), True, False),
        (("a",), decision("answer", "b"), False, False),
        (("a",), decision("suggest", suggested=("c", "a")), False, True),
        (("a",), decision("suggest", suggested=("c",)), False, False),
        (("a",), decision("fallback"), False, False),
        ((), decision("answer", "a"), False, False),  # out of scope: never a correct answer
    ],
)
def test_outcome(answers: tuple[str, ...], made: Decision, correct: bool, hit: bool) -> None:
    o = Outcome(labelled(answers), made)
    assert (o.correct_answer, o.suggest_hit) == (correct, hit)


def test_report_counts_and_rates() -> None:
    outcomes = [
        Outcome(labelled(("a",)), decision("answer", "a")),
        Outcome(labelled(("a",)), decision("answer", "b")),
        Outcome(labelled(("a",)), decision("suggest", suggested=("a",))),
        Outcome(labelled(("a",)), decision("fallback")),
        Outcome(labelled(()), decision("answer", "a")),
        Outcome(labelled(()), decision("suggest", suggested=("a",))),
    ]
    r = report(outcomes)
    assert (r.in_scope, r.answered, r.correct, r.suggested, r.suggest_hits, r.fallback) == (4, 2, 1, 1, 1, 1)
    assert (r.oos, r.oos_answered, r.oos_suggested) == (2, 1, 1)
    assert (r.answer_rate, r.precision, r.suggest_hit_rate, r.oos_answer_rate) == (0.5, 0.5, 1.0, 0.5)
    empty = report([])
    assert (empty.answer_rate, empty.precision, empty.oos_answer_rate) == (0.0, 1.0, 0.0)
