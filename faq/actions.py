"""What a question asks to *do*, and whether an entry is about doing it (pure functions).

「印鑑登録したい」 (register a seal) shares every word with 「印鑑登録証明書はコンビニで取れますか」 (get a
certificate of the registration), yet the entry answers a different request. Japanese: the requested
action is a verbal noun followed by する/できる (登録したい, 申請できる) or a verb the synonym table folds
to one (作る → 申請, 取る → 取得). An entry does that action when one of its phrasings uses the same word
as an action or as the head of a noun compound (印鑑登録の手続き), not only as a modifier inside a longer
compound (印鑑登録証明書: the head is 証明書). English: the verb after "can I / do I / to" and its object
(「get my My Number card」); an entry that uses the same verb only with other objects (「get a residence
certificate」) does something else with the card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from faq.normalize import fold_kana, normalize
from faq.synonyms import ACTIONS, fold_action, fold_phrases
from faq.tokenize import stem_en, terms, tokenizer

_DO = {"為る", "出来る", "する", "できる"}
_PROCEDURE = {"手続き", "手続", "方法", "仕方", "やり方", "申請"}  # 登録の手続き asks to register
_NOUNISH = {"名詞", "接尾辞", "接頭辞"}
# "can I get", "how do I register", "I want to apply", "how to pay", "where should I renew"
_EN_ACT = re.compile(
    r"\b(?:can|could|do|does|should|may|to|i'd like to|i want to|i need to)\s+(?:i\s+|we\s+|you\s+)?"
    r"([a-z]+)((?:\s+[a-z0-9-]+){0,6})"
)
_EN_OBJECT_END = frozenset(
    ("at", "in", "on", "for", "from", "with", "by", "of", "to", "about", "where", "when", "how", "if")
    + ("and", "or", "online", "there", "here")
)
_EN_SKIP = frozenset(
    ("a", "an", "the", "my", "your", "our", "his", "her", "their", "this", "that", "some", "any", "new")
)
_EN_PARTICLES = frozenset(("for", "up", "out", "with"))  # apply for X, fill out X, do with X
# verbs residents use for the same act: get = obtain, apply = make (作る → 申請), reserve = book
_EN_VERBS = {
    "obtain": "get",
    "receive": "get",
    "issue": "get",
    "pick": "get",
    "make": "apply",
    "request": "apply",
    "book": "reserve",
}


@dataclass(frozen=True)
class Acts:
    """Requested actions (Japanese action words, or English (verb, object terms) pairs)."""

    words: frozenset[str] = frozenset()
    verbs: frozenset[tuple[str, frozenset[str]]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.words or self.verbs)


@dataclass(frozen=True)
class Does:
    """What an entry's phrasings do: Japanese action or head words, the verbal nouns it uses only as
    modifiers (印鑑登録証明書's 登録) and the actions it asks for itself; English verbs with objects."""

    words: frozenset[str] = frozenset()
    modifiers: frozenset[str] = frozenset()
    asks: frozenset[str] = frozenset()
    verbs: frozenset[tuple[str, frozenset[str]]] = frozenset()


def _ja(text: str) -> tuple[set[str], set[str], set[str]]:
    """(requested actions, action or compound-head words, verbal nouns inside compounds) of Japanese."""
    morphemes = list(tokenizer().tokenize(fold_phrases(normalize(text))))
    asked: set[str] = set()
    heads: set[str] = set()
    inner: set[str] = set()
    for i, m in enumerate(morphemes):
        pos = m.part_of_speech()
        word = fold_kana(fold_action(m.normalized_form()))
        nxt = morphemes[i + 1] if i + 1 < len(morphemes) else None
        next_pos = nxt.part_of_speech()[0] if nxt is not None else ""
        if pos[0] == "動詞" and m.normalized_form() in ACTIONS:
            asked.add(word)
            heads.add(word)
        elif pos[0] == "名詞" and pos[2] == "サ変可能":
            after = [n.normalized_form() for n in morphemes[i + 1 : i + 3]]
            if (
                after[:1]
                and after[0] in _DO
                or after[:1] in (["を"], ["の"])
                and after[1:]
                and (
                    after[1] in _DO
                    or after[0] == "の"
                    and after[1] in _PROCEDURE
                    and after[1] != m.normalized_form()
                )
            ):
                asked.add(word)
            (inner if next_pos in _NOUNISH else heads).add(word)
    return asked, heads, inner


def _en(text: str) -> set[tuple[str, frozenset[str]]]:
    """(verb, object terms) pairs of English text."""
    out: set[tuple[str, frozenset[str]]] = set()
    for m in _EN_ACT.finditer(normalize(text)):
        verb = _EN_VERBS.get(m.group(1), stem_en(m.group(1)))
        rest = m.group(2).split()
        while rest and rest[0] in _EN_PARTICLES:
            rest = rest[1:]
        words: list[str] = []
        for w in rest:
            if w in _EN_OBJECT_END:
                break
            if w not in _EN_SKIP:
                words.append(w)
        obj = frozenset(terms(" ".join(words)))
        if obj:
            out.add((verb, obj))
    return out


def asked(text: str) -> Acts:
    """The actions a question asks to do (not cached: residents' text is not kept in memory)."""
    if text.isascii():
        return Acts(verbs=frozenset(_en(text)))
    return Acts(words=frozenset(_ja(text)[0]))


@lru_cache(maxsize=4096)
def does(phrasings: tuple[str, ...]) -> Does:
    """What an entry's question and alternatives are about doing (cached: entries are immutable)."""
    words: set[str] = set()
    inner: set[str] = set()
    asks: set[str] = set()
    verbs: set[tuple[str, frozenset[str]]] = set()
    for p in phrasings:
        if p.isascii():
            verbs |= _en(p)
        else:
            a, h, i = _ja(p)
            asks |= a
            words |= h
            inner |= i
    return Does(frozenset(words), frozenset(inner - words), frozenset(asks), frozenset(verbs))


def mismatch(acts: Acts, entry: Does) -> bool:
    """The question asks to do something the entry is not about.

    Japanese: an action the entry does not do although it names it inside a compound or asks for
    another action itself. English: the entry does the same verb only to other objects, or something
    else to the same object, and never this verb to this object."""
    if acts.words and not acts.words & entry.words and (acts.words & entry.modifiers or entry.asks):
        return True
    for verb, obj in acts.verbs:
        if any(v == verb and o & obj for v, o in entry.verbs):
            continue
        if any(v == verb or o & obj for v, o in entry.verbs):
            return True
    return False
