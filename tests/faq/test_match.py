"""The matcher's coverage features on a small corpus (pure: no database, no shared data)."""

from __future__ import annotations

import pytest

from faq.corpus import Entry
from faq.match import Matcher

ENTRIES = [
    Entry(id="cert", question="住民票をコンビニで発行できますか", answer="コンビニで取得できます。"),
    Entry(
        id="kinds",
        question="コンビニ交付の対象",
        answer="住民票、印鑑登録証明書をコンビニで取得できます。",
        alternatives=("コンビニで取れる証明書",),
    ),
    Entry(id="library", question="図書館の本を予約したい", answer="インターネットで予約できます。"),
]
MATCHER = Matcher(ENTRIES)


def top(question: str) -> tuple[str, float, float, float]:
    first = MATCHER.rank(question).candidates[0]
    return MATCHER.entries[first.index].id, first.coverage, first.q_coverage, first.phrasing


@pytest.mark.parametrize(
    ("question", "entry_id", "phrasing"),
    [
        ("コンビニで住民票とれる？", "cert", 1.0),  # 取れる meets 発行: the whole question phrasing
        ("コンビニで取れる証明書は？", "kinds", 1.0),  # an alternative counts as a phrasing
        ("図書館の本", "library", 0.75),  # 図書 館 本 of 図書 館 本 予約 (equal idf here)
    ],
)
def test_phrasing_coverage(question: str, entry_id: str, phrasing: float) -> None:
    got_id, _, _, got_phrasing = top(question)
    assert got_id == entry_id and got_phrasing == pytest.approx(phrasing)


def test_an_unknown_verb_weighs_less_than_an_unknown_noun() -> None:
    _, verb_cov, _, _ = top("コンビニで住民票を発行してもらって喜ぶ")  # 喜ぶ: unknown verb
    _, noun_cov, _, _ = top("コンビニで住民票を発行して郵送")  # 郵送: unknown noun
    assert 0 < noun_cov < verb_cov < 1
