"""BM25 and BM25F scoring: the properties the matcher's ranking relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faq.bm25 import BM25, FieldedBM25

QUESTIONS = [["住民票", "取得"], ["印鑑", "登録"], ["図書館", "予約"]]
ANSWERS = [["窓口", "住民票", "手数料"], ["窓口", "印鑑", "住民票"], ["図書館", "予約", "インターネット"]]


def test_one_field_is_plain_bm25() -> None:
    plain = BM25(ANSWERS).scores(["住民票", "窓口"])
    fielded = FieldedBM25([ANSWERS], (1.0,)).scores(["住民票", "窓口"])
    assert np.allclose(plain, fielded, rtol=1e-5)


@pytest.mark.parametrize(
    ("query", "best", "order"),
    [
        (["住民票"], 0, [0, 1]),  # in both fields of 0, only in the answer of 1
        (["印鑑"], 1, [1]),
        (["予約", "図書館"], 2, [2]),
        (["住民票", "住民票"], 0, [0, 1]),  # a repeated term counts once
    ],
)
def test_a_question_hit_outweighs_an_answer_hit(query: list[str], best: int, order: list[int]) -> None:
    scores = FieldedBM25([QUESTIONS, ANSWERS], (3.0, 1.0)).scores(query)
    assert int(np.argmax(scores)) == best
    assert [int(i) for i in np.argsort(-scores) if scores[i] > 0] == order


def test_a_term_in_both_fields_is_saturated_once() -> None:
    """BM25F sums the fields' frequencies before saturation: at most idf × (k1 + 1) per term."""
    k1 = 1.2
    index = FieldedBM25([QUESTIONS, ANSWERS], (3.0, 1.0), k1=k1)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # 住民票 is in 2 of 3 documents
    score = float(index.scores(["住民票"])[0])
    assert 0 < score < idf * (k1 + 1)


def test_unknown_terms_and_empty_queries_score_zero() -> None:
    index = FieldedBM25([QUESTIONS, ANSWERS], (3.0, 1.0))
    assert not index.scores([]).any()
    assert not index.scores(["存在しない"]).any()
    assert FieldedBM25([[], []], (3.0, 1.0)).scores(["住民票"]).size == 0
