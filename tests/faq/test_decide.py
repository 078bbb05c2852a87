from __future__ import annotations

import pytest

from faq.bm25 import BM25
from faq.corpus import Entry
from faq.decide import CALIBRATION, answers, confidence, decide, explains, features, lead, mutual
from faq.match import Candidate, Ranking

ENTRIES = [Entry(id=f"e{i}", question=f"質問{i}", answer=f"回答{i}") for i in range(5)]


def ranking(*cands: tuple[float, float, float, float]) -> Ranking:
    """Candidates as (score, coverage, question coverage, fuzzy), in rank order."""
    return Ranking([Candidate(i, *c) for i, c in enumerate(cands)])


@pytest.mark.parametrize(
    ("rank", "kind", "entry_id", "n_suggestions"),
    [
        (ranking(), "fallback", None, 0),  # nothing matched
        (ranking((10.0, 1.0, 1.0, 1.0), (2.0, 0.5, 0.0, 0.3)), "answer", "e0", 0),  # clear winner
        (ranking((10.0, 1.0, 1.0, 0.9)), "answer", "e0", 0),  # only one candidate
        (
            ranking((10.0, 1.0, 1.0, 0.6), (9.0, 1.0, 1.0, 0.6), (8.0, 1.0, 0.5, 0.5)),
            "suggest",
            None,
            3,
        ),  # close
        (ranking((5.0, 0.5, 0.5, 0.4), (4.9, 0.5, 0.5, 0.4)), "suggest", None, 2),  # partial and close
        (ranking((3.0, 0.2, 0.0, 0.2), (2.9, 0.2, 0.0, 0.2)), "fallback", None, 0),  # weak everywhere
    ],
)
def test_decisions(rank: Ranking, kind: str, entry_id: str | None, n_suggestions: int) -> None:
    d = decide(rank, ENTRIES)
    assert (d.decision, d.entry_id, len(d.suggestions)) == (kind, entry_id, n_suggestions)
    assert (d.answer is not None) == (kind == "answer")
    assert 0.0 <= d.score <= 1.0


def test_confidence_grows_with_margin_coverage_and_fuzzy() -> None:
    base = confidence(ranking((10.0, 0.5, 0.5, 0.5), (8.0, 0.5, 0.5, 0.5)))
    assert confidence(ranking((10.0, 0.5, 0.5, 0.5), (2.0, 0.5, 0.5, 0.5))) > base
    assert confidence(ranking((10.0, 1.0, 1.0, 0.5), (8.0, 0.5, 0.5, 0.5))) > base
    assert confidence(ranking((10.0, 0.5, 0.5, 1.0), (8.0, 0.5, 0.5, 0.5))) > base


def test_suggestions_are_ordered_and_limited() -> None:
    rank = ranking(*[(10.0 - i * 0.1, 1.0, 1.0, 0.5) for i in range(5)])
    d = decide(rank, ENTRIES, suggestions=4, truncated=True)
    assert d.decision == "suggest" and d.truncated
    assert [s.entry_id for s in d.suggestions] == ["e0", "e1", "e2", "e3"]
    assert [s.score for s in d.suggestions] == sorted((s.score for s in d.suggestions), reverse=True)
    assert d.suggestions[0].score == d.score


def test_features_of_empty_and_single() -> None:
    assert features(ranking()) == (0.0, 0.0, 0.0, 0.0)
    assert features(ranking((4.0, 0.7, 0.3, 0.9))) == (0.7, 0.3, 1.0, 0.9)


def test_thresholds_are_ordered() -> None:
    assert 0 < CALIBRATION.suggest_at < CALIBRATION.answer_at < 1


def test_bm25_prefers_rare_terms_and_ignores_unknown() -> None:
    index = BM25([["住民票", "コンビニ"], ["住民票", "窓口"], ["図書館"]])
    scores = index.scores(["コンビニ", "住民票", "存在しない語"])
    assert scores[0] > scores[1] > scores[2] == 0
    assert index.scores(["存在しない語"]).sum() == 0
    assert index.scores(["コンビニ", "コンビニ"])[0] == pytest.approx(index.scores(["コンビニ"])[0])


def explained(*cands: tuple[float, float, float]) -> Ranking:
    """Candidates as (question coverage, phrasing coverage, score), in rank order; coverage 1."""
    return Ranking([Candidate(i, score, 1.0, q, 0.3, phr) for i, (q, phr, score) in enumerate(cands)])


@pytest.mark.parametrize(
    ("rank", "expected"),
    [
        (explained((1.0, 1.0, 10.0), (0.5, 1.0, 9.5)), True),  # the runner-up explains half the question
        (explained((0.8, 1.0, 10.0), (0.4, 0.5, 9.9)), True),  # an extra word the FAQ lacks is fine
        (explained((1.0, 1.0, 10.0)), True),  # nothing else matched
        (explained((1.0, 1.0, 10.0), (1.0, 1.0, 9.9)), False),  # two entries explain it: offer both
        (explained((1.0, 1.0, 10.0), (1.0, 0.8, 9.9)), False),  # the other phrasing is nearly covered
        (explained((1.0, 0.6, 10.0), (0.2, 0.2, 2.0)), False),  # the entry asks more than the question
        (explained((0.6, 1.0, 10.0), (0.1, 0.1, 2.0)), False),  # the question asks more than the entry
        (explained(), False),
    ],
)
def test_explains(rank: Ranking, expected: bool) -> None:
    assert explains(rank) == expected


def test_lead_and_mutual() -> None:
    rank = explained((1.0, 0.75, 10.0), (0.5, 1.0, 9.0), (0.9, 0.25, 8.0))
    assert [mutual(c) for c in rank.candidates] == [0.75, 0.5, 0.25]
    assert lead(rank) == 0.25 and lead(explained()) == 0.0


@pytest.mark.parametrize(
    ("rank", "p", "expected"),
    [
        (explained((1.0, 1.0, 10.0), (0.5, 0.5, 9.9)), 0.2, True),  # explained, weak confidence
        (explained((1.0, 1.0, 10.0), (0.5, 0.5, 9.9)), CALIBRATION.suggest_at - 0.01, False),
        (explained((1.0, 1.0, 10.0), (1.0, 1.0, 9.9)), CALIBRATION.answer_at, True),  # confident
        (explained((1.0, 1.0, 10.0), (1.0, 1.0, 9.9)), CALIBRATION.answer_at - 0.01, False),
    ],
)
def test_answers_by_confidence_or_explanation(rank: Ranking, p: float, expected: bool) -> None:
    assert answers(rank, p) == expected


def test_an_explained_question_is_answered_despite_a_small_margin() -> None:
    rank = explained((1.0, 1.0, 10.0), (0.4, 0.5, 9.8), (0.4, 0.5, 9.7))
    assert confidence(rank) < CALIBRATION.answer_at
    d = decide(rank, ENTRIES)
    assert (d.decision, d.entry_id) == ("answer", "e0")
