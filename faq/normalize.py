"""Text normalisation for matching: NFKC, case, width, kana folding, control characters, length.

Pure functions only; the matcher and the import use them on both questions and entries.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_CHARS = 400  # longer questions are cut (and the Decision says so)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACE = re.compile(r"\s+")
# Long-vowel marks and dashes that users type interchangeably after NFKC.
_DASHES = str.maketrans({"‐": "-", "‑": "-", "–": "-", "—": "-", "―": "-", "−": "-", "～": "~", "〜": "~"})
_HIRA_TO_KATA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Kanji that look like katakana; replaced only after a katakana letter and before anything but kanji.
_LOOKALIKES = {"二": "ニ", "口": "ロ", "力": "カ", "工": "エ", "夕": "タ", "卜": "ト", "八": "ハ", "一": "ー"}
_LOOKALIKE = re.compile(r"([\u30a1-\u30fa\u30fc])([二口力工夕卜八一])(?![\u3400-\u9fff])")


def clean(text: str) -> str:
    """NFKC, dashes unified, control and zero-width characters removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """`clean` plus lower case and lookalike typos repaired: the form every matcher component sees."""
    return fix_lookalikes(clean(text).lower())


def fix_lookalikes(text: str) -> str:
    """Kanji typed for the katakana they resemble, after katakana (コンビ二 → コンビニ, マイナンバ一)."""
    return _LOOKALIKE.sub(lambda m: m.group(1) + _LOOKALIKES[m.group(2)], text)


def fold_kana(text: str) -> str:
    """Hiragana to katakana, so こんびに and コンビニ compare equal."""
    return text.translate(_HIRA_TO_KATA)


def truncate(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, bool]:
    """Cut an over-long question; the flag says whether anything was cut."""
    return (text[:limit], True) if len(text) > limit else (text, False)


def detect_lang(text: str) -> str:
    """`ja` when the text has any Japanese script, `en` when it has Latin letters only, else `ja`."""
    if _JAPANESE.search(text):
        return "ja"
    return "en" if _LATIN.search(text) else "ja"


def has_words(text: str) -> bool:
    """False for text without any letter, digit or Japanese character (emoji, symbols, blanks)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)
