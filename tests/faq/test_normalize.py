from __future__ import annotations

import pytest

from faq.normalize import MAX_QUESTION_CHARS, clean, detect_lang, fold_kana, has_words, normalize, truncate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＬＩＮＥで　住民票", "lineで 住民票"),  # full width letters and space
        ("ｺﾝﾋﾞﾆ", "コンビニ"),  # half-width katakana
        ("Ｗｉ－Ｆｉ", "wi-fi"),
        ("電子\u200b申請", "電子 申請"),  # zero-width space
        ("住民票\x00\x07を", "住民票 を"),  # control characters
        ("  複数   の\t空白\n", "複数 の 空白"),
        ("①②", "12"),
        ("コンビ二で", "コンビニで"),  # kanji lookalikes after katakana
        ("マイナンバ一カード", "マイナンバーカード"),
        ("ホ一ムペ一ジ", "ホームページ"),
        ("カード二枚", "カード二枚"),  # a numeral before kanji stays
        ("一二三", "一二三"),  # no katakana before: kanji stay
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("こんびに", "コンビニ"),
        ("マイナンバー", "マイナンバー"),
        ("すいた市報", "スイタ市報"),
        ("abc", "abc"),
    ],
)
def test_fold_kana(text: str, expected: str) -> None:
    assert fold_kana(text) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How do I follow the city on LINE?", "en"),
        ("LINEの登録方法", "ja"),
        ("住民票", "ja"),
        ("12345", "ja"),
        ("", "ja"),
        ("😀", "ja"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", False), ("   ", False), ("😀🎉", False), ("!?！", False), ("a", True), ("税", True)],
)
def test_has_words(text: str, expected: bool) -> None:
    assert has_words(text) is expected


def test_truncate_says_so() -> None:
    long = "あ" * (MAX_QUESTION_CHARS + 5)
    assert truncate(long) == ("あ" * MAX_QUESTION_CHARS, True)
    assert truncate("短い") == ("短い", False)


def test_clean_keeps_case() -> None:
    assert clean("ＬＩＮＥ") == "LINE"
