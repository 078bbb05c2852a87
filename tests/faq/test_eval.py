"""Every line of the shared resident-question acceptance file passes (skipped without ../shared)."""

from __future__ import annotations

import json

import pytest

from faq.service import FaqIndexService
from tests.faq.conftest import SHARED, shared_file

EVAL = SHARED / "eval" / "resident_questions.jsonl"
ROWS = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()] if EVAL.exists() else [{}]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: str(r.get("q", "absent"))[:30])
def test_resident_question(suita: FaqIndexService, row: dict[str, object]) -> None:
    shared_file("eval", "resident_questions.jsonl")
    d = suita.ask(str(row["q"]))
    if row.get("oos"):
        assert d.decision != "answer"
        return
    assert d.decision == "answer" and d.answer is not None, d
    groups = row["all"]
    assert isinstance(groups, list)
    for group in groups:
        assert any(word.lower() in d.answer.lower() for word in group), (group, d.answer)
