"""Which language a question is in, and a bridge to the Japanese FAQ for languages it has no entries in.

`detect` looks at scripts and a few telltale letters and words (no model): Hangul is Korean, kana is
Japanese, Han characters alone are Chinese when they include simplified-only forms or Chinese function
words, Vietnamese has its own diacritics, Portuguese its own letters and common words; other Latin
text is English. `bridge` turns a question in Chinese, Korean, Vietnamese or Portuguese into Japanese
query words from a small glossary (`faq/data/question_bridge.json`; Chinese is also converted to the
Japanese forms of its characters), or None when no glossary term is found. Pure functions; every scan
is linear in the (already cut) question.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

BRIDGE_FILE = Path(__file__).resolve().parent / "data" / "question_bridge.json"

_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
# ă â đ ê ô ơ ư and the tone-marked vowels of Latin Extended Additional (ạ ả ấ … ỹ)
_VIETNAMESE = re.compile(r"[ăđơưĂĐƠƯ\u1ea0-\u1ef9]")
_PORTUGUESE_LETTERS = re.compile(r"[ãõçÃÕÇ]")
_WORD = re.compile(r"[a-zà-ÿ]+")
_PORTUGUESE_WORDS = frozenset(
    [
        "como",
        "onde",
        "posso",
        "quero",
        "preciso",
        "não",
        "nao",
        "qual",
        "quando",
        "meu",
        "minha",
        "fazer",
        "tirar",
        "tenho",
        "lixo",
        "cidade",
        "prefeitura",
        "está",
        "estão",
        "são",
        "você",
        "vocês",
        "obrigado",
        "obrigada",
        "olá",
        "bom",
        "dia",
        "tem",
        "pode",
    ]
)
# Characters only simplified Chinese writes this way, and words Japanese does not use.
_SIMPLIFIED = frozenset(
    "们这么吗呢怎谁说请问没还让对为个么里边样给过时间难险证书记录续带儿疗预约种开关图"
    "馆车电话费补护养龄灾场处发题检查诊应认识码网页业务员长门东铁转厅际语韩汉饮纳经济环资饭妇产婴结离户窗营"
)
_CHINESE_WORDS = ("的", "我", "你", "在哪", "什么", "哪里", "怎么", "可以吗", "是不是")
# Simplified characters → the Japanese form (only where the Japanese form differs).
ZH_TO_JA = str.maketrans(
    {
        "难": "難",
        "险": "険",
        "证": "証",
        "书": "書",
        "记": "記",
        "录": "録",
        "续": "続",
        "带": "帯",
        "儿": "児",
        "疗": "療",
        "预": "予",
        "约": "約",
        "种": "種",
        "开": "開",
        "关": "関",
        "图": "図",
        "馆": "館",
        "车": "車",
        "电": "電",
        "话": "話",
        "费": "費",
        "补": "補",
        "护": "護",
        "养": "養",
        "龄": "齢",
        "灾": "災",
        "场": "場",
        "处": "処",
        "发": "発",
        "问": "問",
        "题": "題",
        "检": "検",
        "查": "査",
        "诊": "診",
        "应": "応",
        "认": "認",
        "识": "識",
        "网": "網",
        "业": "業",
        "务": "務",
        "员": "員",
        "长": "長",
        "门": "門",
        "间": "間",
        "东": "東",
        "铁": "鉄",
        "转": "転",
        "厅": "庁",
        "际": "際",
        "语": "語",
        "韩": "韓",
        "汉": "漢",
        "个": "個",
        "饮": "飲",
        "给": "給",
        "纳": "納",
        "经": "経",
        "济": "済",
        "环": "環",
        "资": "資",
        "饭": "飯",
        "妇": "婦",
        "产": "産",
        "结": "結",
        "离": "離",
        "户": "戸",
        "窗": "窓",
        "营": "営",
        "报": "報",
        "议": "議",
        "设": "設",
        "请": "請",
        "园": "園",
        "乐": "楽",
        "体": "体",
        "数": "数",
        "据": "拠",
        "卫": "衛",
        "医": "医",
    }
)


def detect(text: str) -> str:
    """`ja`, `en`, `zh-Hans`, `ko`, `vi` or `pt` (easy Japanese cannot be told from Japanese)."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        chinese = any(ch in _SIMPLIFIED for ch in text) or any(w in text for w in _CHINESE_WORDS)
        return "zh-Hans" if chinese else "ja"
    if not _LATIN.search(text):
        return "ja"
    if _VIETNAMESE.search(text):
        return "vi"
    folded = text.lower()
    if _PORTUGUESE_LETTERS.search(text) or any(w in _PORTUGUESE_WORDS for w in _WORD.findall(folded)):
        return "pt"
    return "en"


@lru_cache(maxsize=1)
def glossary() -> dict[str, tuple[tuple[str, str], ...]]:
    """Per language, (term, Japanese words) pairs, longest term first (so 印章登记 wins over 印章)."""
    data = json.loads(BRIDGE_FILE.read_text(encoding="utf-8"))
    return {
        lang: tuple(
            sorted(
                ((unicodedata.normalize("NFKC", k).lower(), v) for k, v in terms.items()),
                key=lambda kv: -len(kv[0]),
            )
        )
        for lang, terms in data.items()
        if not lang.startswith("_")
    }


def bridge(text: str, lang: str) -> str | None:
    """Japanese query words for a question in `lang` (None: no glossary term found, or a language
    without a glossary). Each term is used once; a longer term hides the shorter ones inside it."""
    terms = glossary().get(lang)
    if not terms:
        return None
    rest = unicodedata.normalize("NFKC", text).lower()
    found: list[str] = []
    for term, japanese in terms:
        if term in rest:
            found.append(japanese)
            rest = rest.replace(term, " ")
    if lang == "zh-Hans":
        converted = rest.translate(ZH_TO_JA)
        if found or converted != rest:
            found.append(converted.strip())
    words = " ".join(w for w in found if w)
    return words or None
