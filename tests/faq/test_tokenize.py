from __future__ import annotations

import threading

import pytest

from faq.synonyms import fold_phrases
from faq.tokenize import analyse, stem_en, terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("住民票の写し", "住民票"),
        ("コンビニエンスストアで", "コンビニで"),
        ("印鑑証明", "印鑑登録証明書"),
        ("印鑑登録証明書", "印鑑登録証明書"),  # canonical words stay as they are
        ("ツイッター", "twitter"),
        ("市役所", "市役所"),  # not rewritten through its part 役所
        ("役所", "市役所"),
        ("保育園", "保育所"),
        ("wifi", "wi-fi"),
        ("スマホ決済", "コード決済"),
        ("じゅうみんひょう", "住民票"),  # kana readings
        ("いんかんしょうめい", "印鑑登録証明書"),
        ("まいなんばーかーど", "マイナンバーカード"),  # hiragana of a katakana word, made automatically
        ("こんびに", "コンビニ"),
        ("マイナなし", "マイナンバーカードなし"),
        ("マイナンバー", "マイナンバー"),  # the number is not the card
        ("住民税", "税"),  # must not meet 住民票 through 住民
        ("セブンイレブン", "コンビニ"),
        ("メルマガ", "メールマガジン"),
        ("でんしゃ", "でんしゃ"),  # no reading of 電子 inside everyday words
    ],
)
def test_phrase_synonyms(text: str, expected: str) -> None:
    assert fold_phrases(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("住民票の写し", "住民票"),
        ("コンビニエンスストア", "コンビニ"),
        ("ツイッター", "X"),
        ("印鑑証明", "印鑑登録証明書"),
        ("保育園", "保育所"),
        ("ＷｉＦｉ", "公衆無線LAN"),
        ("申込み", "申し込み"),  # Sudachi's normalised form
        ("ライン", "LINE"),
        ("住民票とれる", "住民票を発行"),  # residents take what the FAQ issues
        ("住民票取れる", "住民票の交付"),
        ("パスポートを作る", "パスポートの申請"),
        ("税金を払う", "市税の納付"),
        ("クレカ払い", "クレジットカードで支払い"),
        ("申し込み", "申込"),
        ("議会を見れる", "議会の閲覧"),
        ("コンビ二", "コンビニ"),  # kanji 二 typed for katakana ニ
        ("SNSやってる？", "SNS"),
    ],
)
def test_synonyms_meet_in_terms(a: str, b: str) -> None:
    assert terms(a) == terms(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("住民票をコンビニで発行できますか", ["住民", "票", "コンビニ", "取得"]),  # 発行 → 取得
        ("How do I follow the city on LINE?", ["follow", "line"]),
        ("教えてください", []),  # only stop words
        ("😀😀", []),
        ("Certificates", ["certificate"]),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("郵送が遅れる", [("郵送", True), ("遅レル", False)]),
        ("ベルが鳴る", [("ベル", True), ("鳴ル", False)]),
        ("Wi-Fi", [("wi-fi", True)]),
    ],
)
def test_analyse_tells_names_from_actions(text: str, expected: list[tuple[str, bool]]) -> None:
    assert analyse(text) == expected


@pytest.mark.parametrize(
    ("word", "stem"),
    [("certificates", "certificate"), ("libraries", "library"), ("booking", "book"), ("bus", "bus")],
)
def test_stem_en(word: str, stem: str) -> None:
    assert stem_en(word) == stem


def test_tokenizer_is_per_thread() -> None:
    results: list[list[str]] = []

    def work() -> None:
        results.extend(terms("電子申請の方法") for _ in range(50))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and all(r == results[0] for r in results)
