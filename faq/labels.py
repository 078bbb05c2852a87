"""Short entry labels for LINE quick-reply buttons (LINE shows at most 20 characters of a label).

Shipped entries carry a hand-written `label`; an imported entry without one gets `derive_label`: the
question without its question ending when that fits (「住民票をコンビニで発行できますか？」 →
「住民票をコンビニで発行」), else its key nouns joined with ・ — never the question cut mid-word.
"""

from __future__ import annotations

import re

from faq.normalize import clean
from faq.tokenize import tokenizer

LABEL_MAX = 20

_JA_TAILS = re.compile(
    r"(?:について|を?教えて(?:ください|下さい|ほしい|欲しい)?|を?知りたい(?:のですが|です)?"
    r"|は?ありますか|はある|は?できますか|できる|ですか|でしょうか|とは|って|のか|の|は)$"
)
_EN_HEAD = re.compile(
    r"^(?:how (?:do|can|should) (?:i|we)|can (?:i|we)|where (?:can|do|should) (?:i|we)"
    r"|what (?:is|are)|is there|are there|do (?:i|we) need(?: to)?|do you have|does the city"
    r"|does suita|is|are|what|how|where)\s+",
    re.IGNORECASE,
)
_EN_STOP = frozenset(
    ("a", "an", "the", "my", "your", "our", "to", "of", "for", "at", "in", "on", "by", "with")
)
_NOUNISH = {"名詞", "接尾辞", "接頭辞"}


def _fits(label: str) -> bool:
    return 0 < len(label) <= LABEL_MAX


def _ja(question: str) -> str:
    text = question.rstrip("?？!！。 ")
    for _ in range(4):  # 「…について教えてください」: strip tails one by one
        shorter = _JA_TAILS.sub("", text).rstrip("、 ")
        if shorter == text or not shorter:
            break
        text = shorter
    if _fits(text) and not text.endswith(("ます", "ますか", "ません", "ませんか")):  # 取れますか: a verb
        return text
    compounds: list[str] = []
    current = ""
    for m in tokenizer().tokenize(text):
        if m.part_of_speech()[0] in _NOUNISH:
            current += m.surface()
        elif current:
            compounds.append(current)
            current = ""
    if current:
        compounds.append(current)
    label = ""
    for c in compounds:
        joined = f"{label}・{c}" if label else c
        if len(joined) > LABEL_MAX:
            break
        label = joined
    return label or (compounds[0] if compounds else text)[:LABEL_MAX]


def _en(question: str) -> str:
    text = re.sub(r"\([^)]*\)", "", question).strip().rstrip("?!. ")
    text = _EN_HEAD.sub("", text).strip()
    text = text[:1].upper() + text[1:]
    if _fits(text):
        return text
    label = ""
    for word in text.split():
        if word.lower() in _EN_STOP and not label:
            continue
        joined = f"{label} {word}" if label else word
        if len(joined) > LABEL_MAX:
            break
        label = joined
    while label and label.split()[-1].lower() in _EN_STOP:  # "Pay taxes at" → "Pay taxes"
        label = label.rsplit(" ", 1)[0] if " " in label else ""
    return label or text.split()[0][:LABEL_MAX]


def derive_label(question: str, lang: str = "ja") -> str:
    """A label of at most `LABEL_MAX` characters for an entry that has none."""
    text = clean(question)
    return _en(text) if lang == "en" or text.isascii() else _ja(text)
