from __future__ import annotations

import math

import pytest

from faq.phrasings import Phrasings

IDF = {"住民票": 2.0, "コンビニ": 1.0, "取得": 1.0, "休日": 3.0, "印鑑": 2.0}
DOCS = [
    [["住民票", "コンビニ", "取得"], ["コンビニ", "交付"]],  # 交付 has no idf: not counted
    [["休日", "住民票", "印鑑", "取得", "取得"]],
    [],  # an entry without phrasings
    [["未知語"]],  # only words without idf
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (["コンビニ", "住民票", "取得"], [1.0, 3 / 8, 0.0, 0.0]),
        (["コンビニ"], [1.0, 0.0, 0.0, 0.0]),  # the best phrasing counts: 「コンビニ 交付」
        (["住民票", "印鑑"], [0.5, 0.5, 0.0, 0.0]),
        (["休日", "住民票", "印鑑", "取得", "余計"], [0.75, 1.0, 0.0, 0.0]),
        ([], [0.0, 0.0, 0.0, 0.0]),
        (["未知語"], [0.0, 0.0, 0.0, 0.0]),
    ],
)
def test_covered(query: list[str], expected: list[float]) -> None:
    got = Phrasings(DOCS, IDF).covered(query, [0, 1, 2, 3])
    assert all(math.isclose(g, e, rel_tol=1e-6) for g, e in zip(got, expected, strict=True)), got


def test_covered_for_any_subset_in_any_order() -> None:
    index = Phrasings(DOCS, IDF)
    assert list(index.covered(["休日", "印鑑"], [1, 0])) == pytest.approx([5 / 8, 0.0])
    assert index.covered(["住民票"], []).shape == (0,)
    assert Phrasings([], IDF).covered(["住民票"], []).shape == (0,)
