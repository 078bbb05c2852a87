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
    "住民票": ("住民票の写し", "住民票写し", "住民票の写", "住民表"),
    "コンビニ": (
        "コンビニエンスストア",
        "コンビニエンス・ストア",
        "セブンイレブン",
        "セブン-イレブン",
        "ローソン",
        "ファミリーマート",
        "ファミマ",
    ),
    "印鑑登録証明書": ("印鑑登録証明", "印鑑証明書", "印鑑証明", "印鑑登録の証明書"),
    "戸籍証明書": ("戸籍謄抄本", "戸籍謄本", "戸籍抄本", "戸籍の証明書"),
    "課税証明書": ("課税所得証明書", "所得証明書", "所得証明", "課税証明", "非課税証明書"),
    "マイナンバーカード": ("個人番号カード", "マイナカード", "マイナンバー・カード", "マイナ"),
    "マイナンバー": ("個人番号",),  # the number itself; also keeps マイナ from matching inside it
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
    "会議録": ("議事録",),
    "市役所": ("役所", "市役場"),
    "吹田": ("すいた", "スイタ"),
    "twitter": ("ツイッター", "エックス"),
    "facebook": ("フェイスブック", "fb"),
    "メールマガジン": ("メルマガ",),
    "オープンデータ": ("open data",),
    "パスポート": ("旅券",),
    "ドローン": ("無人航空機",),
    "英語": (
        "外国語",
        "多言語",
        "english",
        "中国語",
        "韓国語",
        "朝鮮語",
        "ベトナム語",
        "ポルトガル語",
        "スペイン語",
        "フィリピン語",
        "タガログ語",
        "ネパール語",
    ),
    # tax names residents use for what the FAQ calls 市税 or 税; 住民税 must not meet 住民票's 住民
    "税": ("市税", "税金", "住民税", "市民税", "市県民税", "市・府民税"),
    "国民健康保険": ("国保",),
}

# How residents type the FAQ's words in kana (hiragana; katakana words get theirs automatically).
# Only readings of three kana or more that do not occur inside everyday words (でんし would hit でんしゃ).
READINGS: dict[str, tuple[str, ...]] = {
    "住民票": ("じゅうみんひょう",),
    "印鑑登録証明書": ("いんかんとうろくしょうめいしょ", "いんかんしょうめいしょ", "いんかんしょうめい"),
    "戸籍証明書": ("こせきしょうめいしょ", "こせきとうほん", "こせきしょうほん"),
    "戸籍": ("こせき",),
    "課税証明書": ("かぜいしょうめいしょ", "しょとくしょうめいしょ", "しょとくしょうめい"),
    "証明書": ("しょうめいしょ",),
    "保育所": ("ほいくえん", "ほいくしょ"),
    "電子申請": ("でんししんせい",),
    "電子書籍": ("でんししょせき",),
    "施設予約": ("しせつよやく",),
    "予約": ("よやく",),
    "図書館": ("としょかん",),
    "健診": ("けんしん", "けんこうしんだん"),
    "市役所": ("しやくしょ",),
    "避難所": ("ひなんじょ",),
    "防災": ("ぼうさい",),
    "防犯": ("ぼうはん",),
    "公民館": ("こうみんかん",),
    "議会": ("ぎかい",),
    "国民健康保険": ("こくほ", "こくみんけんこうほけん"),
    "税": ("ぜいきん", "しぜい"),
    "子育て": ("こそだて",),
    "給食": ("きゅうしょく",),
    "旅券": ("りょけん",),
}

# Verbs and action nouns folded to one word after tokenising (keys are Sudachi normalised forms):
# residents "take" (取れる) what the FAQ "issues" (発行, 交付), "pay" (払う) what it "collects" (納付).
ACTIONS: dict[str, str] = {
    "取る": "取得",
    "取れる": "取得",
    "とれる": "取得",
    "発行": "取得",
    "交付": "取得",
    "入手": "取得",
    "作る": "申請",
    "作成": "申請",
    "申し込み": "申込",
    "申込": "申込",
    "払う": "納付",
    "支払う": "納付",
    "支払い": "納付",
    "払い": "納付",
    "納める": "納付",
    "納税": "納付",
    "収納": "納付",
    "見る": "閲覧",
    "探す": "検索",
    "調べる": "検索",
    "言う": "伝える",
    "移す": "異動",  # 住民票を移す: moving one's registration (転入・転出・転居), not a certificate
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
    mapping |= {word: canon for canon, words in READINGS.items() for word in words}
    for word, canon in list(mapping.items()):
        hiragana = to_hiragana(word)
        if hiragana != word and len(hiragana) >= 4 and hiragana not in mapping:
            mapping[hiragana] = canon
    ordered = sorted(mapping, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered)), mapping


def fold_phrases(text: str) -> str:
    """Rewrite every variant in normalised text to its canonical word."""
    pattern, mapping = phrase_pattern()
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def fold_term(term: str) -> str:
    return TERMS.get(term, term)


def fold_action(word: str) -> str:
    """A verb or action noun in its FAQ form (取れる → 取得); other words unchanged."""
    return ACTIONS.get(word, word)


def to_hiragana(text: str) -> str:
    """Katakana to hiragana (the long-vowel mark stays)."""
    return text.translate(_KATA_TO_HIRA)


_KATA_TO_HIRA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
