"""Tokenising for matching: SudachiPy (sudachidict-small) content words, English words, synonyms.

The small dictionary, not core: the same matching quality on our benchmarks (localgov dev SR@1 0.533 vs
0.540, the paraphrase set 74 vs 73 held-out answers at the same precision) for ~75 MB less memory per
process (its mapped pages count in every web and worker process); see docs/benchmarks.md.

`terms(text)` is a pure function of its input (the Sudachi dictionary is read-only data); tokenizers
are per thread, so concurrent readers never share one.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from app import sudachi
from faq.normalize import fold_kana, normalize
from faq.synonyms import fold_action, fold_phrases, fold_term

_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "接尾辞", "接頭辞", "副詞"}
_NAMING_POS = {"名詞", "接尾辞", "接頭辞"}
# Words that say nothing about the topic of a question ("教えてください", "知りたい", "どうすれば").
_JA_STOP_WORDS = (
    "する 為る ある 有る 居る いる なる 成る 出来る できる ない 無い 良い "
    "いい 思う 教える 知る 分かる 下さる くださる 欲しい ほしい こと 事 "
    "もの 物 方 方法 ため 為 よう 様 どう 何 なに 何処 どこ いつ どれ "
    "れる られる せる させる ください 貰う もらう 頂く いただく 御 お ご "
    "さん 様々 等 など 場合 くれる 呉れる 行う 使う 用 的 化 一番 今 やる 遣る"
)
_JA_STOP = frozenset(_JA_STOP_WORDS.split())
_EN_STOP_WORDS = (
    "a an the is are was be do does did i you we my me to of in on at for by with and or how "
    "what where when which who can could there it this that about from get please want need any "
    "some city suita your have has will would should if not no yes as"
)
_EN_STOP = frozenset(_EN_STOP_WORDS.split())
# (suffix, replacement, letters that must remain): taxes → tax, libraries → library, booking → book
_EN_SUFFIXES = (
    ("ies", "y", 3),
    ("sses", "ss", 3),
    ("xes", "x", 2),
    ("ches", "ch", 2),
    ("shes", "sh", 2),
    ("ing", "", 3),
    ("ed", "", 3),
    ("s", "", 3),
)
_ASCII_WORDS = re.compile(r"[a-z0-9]+(?:[-.+][a-z0-9]+)*")
_local = threading.local()


def tokenizer() -> Any:
    """This thread's SudachiPy tokenizer (mode A)."""
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        from sudachipy import SplitMode

        tok = _local.tokenizer = sudachi.dictionary().tokenizer(mode=SplitMode.A)
    return tok


def stem_en(word: str) -> str:
    """A light English stemmer: plural and -ing/-ed endings (enough for FAQ keywords)."""
    for suffix, repl, keep in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def _ja_term(normalized: str, pos: str) -> str | None:
    word = fold_action(normalized)
    if pos not in _CONTENT_POS or word in _JA_STOP:
        return None
    return fold_term(fold_kana(word))


def _en_terms(surface: str) -> list[str]:
    words = _ASCII_WORDS.findall(surface)
    return [fold_term(stem_en(w)) for w in words if w not in _EN_STOP]


def terms(text: str) -> list[str]:
    """Content terms of a text in order (normalised, synonyms folded, stop words dropped)."""
    return [term for term, _ in analyse(text)]


def analyse(text: str) -> list[tuple[str, bool]]:
    """Content terms in order, each with whether it names a thing (nouns, affixes, Latin words)
    rather than an action or quality (verbs, adjectives, adverbs)."""
    folded = fold_phrases(normalize(text))
    out: list[tuple[str, bool]] = []
    for m in tokenizer().tokenize(folded):
        surface = m.surface()
        if surface.isascii():
            out.extend((term, True) for term in _en_terms(surface))
            continue
        pos = m.part_of_speech()[0]
        if (term := _ja_term(m.normalized_form(), pos)) is not None:
            out.append((term, pos in _NAMING_POS))
    return out
