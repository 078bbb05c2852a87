"""Personal names in residents' text, found with SudachiPy (sudachidict-small), for `app.privacy`.

A name is a run of words Sudachi tags 名詞,固有名詞,人名 with a kanji in them (山田太郎, 田中), or a
proper noun or unknown word followed by an honorific (さん, 様, くん …); kana-only "names" are mostly
words (マイナ, けんしん), so they count only before an honorific. Kept, unless an honorific or another
name is next to them (山田さん, 山田 太郎): Suita's district names that Sudachi also knows as surnames or
given names (山田, 岸部中, 南千里, 片山, 高野, 健都 …), names followed by a place word (山田西, 高野台,
山田駅, 芳野町), and parts of era names (令和元年 splits as 令 / 和元): residents name their district far
more often than their neighbour.

The text is split into pieces at brackets (so at every tag), line breaks and sentence ends, and each
piece is tokenised on its own, in slices of at most 1,000 characters (Sudachi's lattice is linear in
its input). The pieces changed by masking are examined again until none has a name, at most `_ROUNDS`
times; in the last round a piece that still has one is replaced whole. So every piece of the result
came back clean, and masking it again changes nothing.

The dictionary is loaded on first use, once per process (`app.sudachi`); each thread gets its own
tokenizer.
"""

from __future__ import annotations

import re
import threading
from typing import Any, NamedTuple

from app import sudachi

NAME = "[氏名]"
_PIECE = re.compile(r"[^\[\]［］【】\n。！？!?]+")
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_KANJI = re.compile(r"[\u3400-\u9fff]")
_SLICE = 1000
_ROUNDS = 3
_PERSON = ("名詞", "固有名詞", "人名")
_HONORIFIC_WORDS = "さん 様 さま サマ 君 くん クン ちゃん チャン 氏 殿 先生 はん"
# words after a name that make it a place or a thing named after a person (山田西, 高野台, 山田駅)
_PLACE_WORDS = (
    "町 市 区 村 郡 都 府 県 駅 線 台 丘 が丘 通 通り 西 東 南 北 中 上 下 本町 新町 公園 地区 "
    "小学校 中学校 高校 小 中学 病院 図書館 出張所 方面 周辺 付近 近く 界隈 丁目 口 団地 住宅 "
    "ニュータウン 川 橋 寺 神社 市場 郵便局 センター 会館 店 支所 地域 校区 エリア 辺り あたり "
    "商店街 保育園 幼稚園 児童館 公民館 霊園 池 山 浜 資料館 記念館 美術館 博物館 文庫 ホール "
    "育英 奨学金 賞"
)
# Suita's districts and stations (and neighbouring cities) whose names Sudachi may tag as personal names
_DISTRICT_NAMES = (
    "吹田 千里 千里山 千里丘 山田 上山田 岸部 岸辺 片山 高野 芳野 健都 江坂 豊津 垂水 正雀 "
    "佐井寺 佐竹 竹見 津雲 藤白 古江 青山 桃山 青葉丘 五月が丘 朝日が丘 藤が丘 朝日 泉 出口 "
    "円山 春日 川岸 川園 金田 寿 幸 清水 末広 高城 高浜 竹谷 寺内 天道 内本 中の島 長野 御旅 "
    "西の庄 日の出 原 平松 広芝 穂波 目俵 元 山手 上山手 芝田 尺谷 樫切山 清和園 芦屋 万博 "
    "関大 緑地 宇野辺 弘済院 豊中 茨木 箕面 摂津 高槻 池田"
)
HONORIFICS = frozenset(_HONORIFIC_WORDS.split())
PLACE_WORDS = frozenset(_PLACE_WORDS.split())
DISTRICTS = frozenset(_DISTRICT_NAMES.split())
_DIRECTIONS = "東西南北上下中新"
_ERAS = ("明治", "大正", "昭和", "平成", "令和")

_local = threading.local()


class _Token(NamedTuple):
    begin: int
    end: int
    surface: str
    person: bool  # tagged 人名
    proper: bool  # a proper noun or an unknown word


def mask_names(text: str) -> str:
    """Replace personal names with `[氏名]` (module docstring)."""
    if not _JAPANESE.search(text):
        return text
    seen: dict[str, list[tuple[int, int]]] = {}
    for round_ in range(_ROUNDS):
        out: list[str] = []
        last = 0
        for m in _PIECE.finditer(text):
            piece = m.group()
            if piece not in seen:
                seen[piece] = name_spans(piece)
            if spans := seen[piece]:
                out += (text[last : m.start()], NAME if round_ == _ROUNDS - 1 else _replace(piece, spans))
                last = m.end()
        if not out:
            return text
        out.append(text[last:])
        text = "".join(out)
    return text


def name_spans(piece: str) -> list[tuple[int, int]]:
    """(start, end) of the personal names in a piece of text, in order, not overlapping."""
    if not _JAPANESE.search(piece):
        return []
    spans: list[tuple[int, int]] = []
    for offset in range(0, len(piece), _SLICE):
        tokens = _tokens(piece[offset : offset + _SLICE])
        spans += ((offset + s, offset + e) for s, e in _names(tokens))
    return spans


def _names(tokens: list[_Token]) -> list[tuple[int, int]]:
    """Spans of the runs of name words that are names: not places or era names, unless an honorific
    follows or another run is next to them (山田 太郎: a full name, though 山田 is a district)."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and _name_word(tokens, j):
            j += 1
        if j > i:
            runs.append((i, j))
        i = max(j, i + 1)
    spans: list[tuple[int, int]] = []
    for k, (i, j) in enumerate(runs):
        before = tokens[i - 1].surface if i > 0 else ""
        after = tokens[j].surface if j < len(tokens) else ""
        words = "".join(t.surface for t in tokens[i:j])
        paired = (k > 0 and _blank(tokens[runs[k - 1][1] : i])) or (
            k + 1 < len(runs) and _blank(tokens[j : runs[k + 1][0]])
        )
        if (
            paired
            or after in HONORIFICS
            or not (_place(before, words, after) or _era(before + words + after))
        ):
            spans.append((tokens[i].begin, tokens[j - 1].end))
    return spans


def _blank(tokens: list[_Token]) -> bool:
    return all(not t.surface.strip() for t in tokens)


def _name_word(tokens: list[_Token], i: int) -> bool:
    token = tokens[i]
    honorific_next = i + 1 < len(tokens) and tokens[i + 1].surface in HONORIFICS
    if honorific_next and token.proper:
        return True
    # kana-only "names" are mostly words (マイナ, けんしん); English ones too (page)
    return token.person and _KANJI.search(token.surface) is not None


def _place(before: str, words: str, after: str) -> bool:
    """Whether a run of name words is a place: a place word follows, or with its neighbours it is a
    district (a direction such as 南 or 中 at either end aside)."""
    if after in PLACE_WORDS:
        return True
    for candidate in (words, before + words, words + after, before + words + after):
        if candidate in DISTRICTS or candidate.strip(_DIRECTIONS) in DISTRICTS:
            return True
    return False


def _era(text: str) -> bool:
    """Part of an era name (令和元年 splits as 令 / 和元, a given name)."""
    return any(era in text for era in _ERAS)


def _replace(piece: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    last = 0
    for start, end in spans:
        out += (piece[last:start], NAME)
        last = end
    out.append(piece[last:])
    return "".join(out)


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for m in _tokenizer().tokenize(text):
        pos = m.part_of_speech()
        tokens.append(
            _Token(
                begin=m.begin(),
                end=m.end(),
                surface=m.surface(),
                person=pos[:3] == _PERSON,
                proper=pos[:2] == _PERSON[:2] or m.is_oov(),
            )
        )
    return tokens


def _tokenizer() -> Any:
    """This thread's tokenizer (SplitMode.C: whole names) from the process's one dictionary."""
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import SplitMode

        tokenizer = _local.tokenizer = sudachi.dictionary().tokenizer(mode=SplitMode.C)
    return tokenizer
