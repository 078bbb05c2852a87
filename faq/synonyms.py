"""The synonym table: residents' words and the words the FAQ uses, folded to one canonical form.

`PHRASES` rewrite normalised text before tokenising (longest first), so multi-word variants such as
住民票の写し or コンビニエンスストア meet their canonical word; `TERMS` fold single tokens after
tokenising. Both sides (entries and questions) go through the same folding, so the table is symmetric.
Keys are in `faq.normalize.normalize` form (NFKC, lower case).
"""

from __future__ import annotations

import re
from functools import lru_cache

# canonical: variants
GROUPS: dict[str, tuple[str, ...]] = {
    "住民票": ("住民票の写し", "住民票写し", "住民票の写"),
    "コンビニ": ("コンビニエンスストア", "コンビニエンス・ストア", "こんびに"),
    "印鑑登録証明書": ("印鑑登録証明", "印鑑証明書", "印鑑証明", "印鑑登録の証明書"),
    "戸籍証明書": ("戸籍謄抄本", "戸籍謄本", "戸籍抄本", "戸籍の証明書"),
    "課税証明書": ("課税所得証明書", "所得証明書", "所得証明", "課税証明", "非課税証明書"),
    "マイナンバーカード": ("個人番号カード", "マイナカード", "マイナンバー・カード"),
    "保育所": ("保育園", "保育施設", "こども園", "認定こども園"),
    "wi-fi": ("公衆無線lan", "無線lan", "wifi", "ワイファイ", "フリーwi-fi"),
    "電子申請": ("オンライン申請", "ネット申請", "インターネット申請", "電子申込み", "電子申込", "web申請"),
    "施設予約": ("施設の予約", "施設を予約", "施設予約システム"),
    "電子書籍": ("電子図書", "eブック", "電子本", "デジタル書籍"),
    "コード決済": ("qrコード決済", "バーコード決済", "スマホ決済", "paypay", "ペイペイ"),
    "キャッシュレス": ("キャッシュレス決済", "電子マネー"),
    "クレジットカード": ("クレカ", "クレジット"),
    "スマートフォン": ("スマホ", "携帯電話"),
    "防犯カメラ": ("監視カメラ", "街頭カメラ"),
    "避難所": ("避難場所", "避難施設"),
    "健診": ("健康診断", "検診", "健康チェック"),
    "ホームページ": ("ウェブサイト", "webサイト", "公式サイト", "hp"),
    "議会中継": ("議会のネット中継", "議会の中継", "議会配信", "議会の動画", "議会動画", "議会のライブ"),
    "市役所": ("役所", "市役場"),
    "吹田": ("すいた", "スイタ"),
    "twitter": ("ツイッター", "エックス"),
    "facebook": ("フェイスブック", "fb"),
    "オープンデータ": ("open data",),
    "パスポート": ("旅券",),
    "ドローン": ("無人航空機",),
    "英語": ("外国語", "多言語", "english"),
}

# Single-token folds applied after tokenising (English words, letters that are words of their own).
TERMS: dict[str, str] = {
    "x": "twitter",
    "tweet": "twitter",
    "nursery": "保育所",
    "daycare": "保育所",
    "library": "図書館",
    "wifi": "wi-fi",
    "smartphone": "スマートフォン",
    "ライン": "line",
}


@lru_cache(maxsize=1)
def phrase_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation of every variant, longest first, and the variant → canonical map."""
    # Canonical words map to themselves so that, longest first, 市役所 is not rewritten through 役所.
    mapping = {word: canon for canon, variants in GROUPS.items() for word in (canon, *variants)}
    ordered = sorted(mapping, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered)), mapping


def fold_phrases(text: str) -> str:
    """Rewrite every variant in normalised text to its canonical word."""
    pattern, mapping = phrase_pattern()
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def fold_term(term: str) -> str:
    return TERMS.get(term, term)
