"""What a question asks to do, and the action near misses that must not be answered."""

from __future__ import annotations

import pytest

from faq.actions import asked, does, mismatch
from faq.service import FaqIndexService
from faq.tokenize import stem_en


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("印鑑登録したい", {"登録"}),
        ("印鑑を登録したい", {"登録"}),
        ("印鑑登録をしたい", {"登録"}),
        ("印鑑登録の手続き", {"登録"}),
        ("住民票を取りたい", {"取得"}),  # 取る → 取得
        ("パスポートはどこで作る？", {"申請"}),  # 作る → 申請
        ("電子申請したい", {"申請"}),
        ("印鑑証明が欲しい", set()),  # wants a thing, no action word
        ("コンビニ交付とは", set()),
    ],
)
def test_japanese_requested_actions(question: str, words: set[str]) -> None:
    assert set(asked(question).words) == words


@pytest.mark.parametrize(
    ("question", "phrasings", "expected"),
    [
        # the entry names 登録 only inside 印鑑登録証明書 and is about getting (取れますか) it
        ("印鑑登録したい", ("印鑑登録証明書はコンビニで取れますか？", "印鑑証明 コンビニ"), True),
        ("印鑑登録したい", ("印鑑登録の手続きについて知りたい。",), False),
        ("住民票を取りたい", ("住民票をコンビニで発行できますか？",), False),  # 発行 → 取得
        ("住民票を移したい", ("住民票をコンビニで発行できますか？",), True),  # 移す → 異動
        ("図書館のメルマガ登録したい", ("図書館のSNSやメールマガジンはありますか",), False),  # no other act
        ("Where can I get my My Number card?", ("Can I get a residence certificate at a konbini?",), True),
        ("Where can I get my My Number card?", ("Do I need a My Number Card to use the service?",), True),
        (
            "Can I pay city tax at a convenience store?",
            ("Can I pay city taxes at a convenience store?",),
            False,
        ),
        ("Where can I make a passport?", ("Where can I apply for a passport?",), False),  # make → apply
        ("Can I watch council meetings online?", ("council streaming",), False),  # no verb to compare
    ],
)
def test_mismatch(question: str, phrasings: tuple[str, ...], expected: bool) -> None:
    assert mismatch(asked(question), does(phrasings)) is expected


@pytest.mark.parametrize(
    "question",
    [
        "印鑑登録したい",
        "印鑑を登録したいです",
        "印鑑登録の手続きを知りたい",
        "Where can I get my My Number card?",
    ],
)
def test_near_misses_are_not_answered(suita: FaqIndexService, question: str) -> None:
    d = suita.ask(question)
    assert d.decision == "suggest", d  # the near entries are offered, not given as the answer


@pytest.mark.parametrize(("word", "stem"), [("taxes", "tax"), ("libraries", "library"), ("booking", "book")])
def test_stem_en(word: str, stem: str) -> None:
    assert stem_en(word) == stem
