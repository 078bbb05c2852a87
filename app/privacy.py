"""Masking of personal details before residents' text is stored or logged.

Residents sometimes type their name, phone number, e-mail, address, birth date, My Number or card
number into the chat. Anything kept for staff from residents' text (unanswered questions, logs, dead
letters, error reasons) passes through `mask_pii` first. The FAQ's own answers are the city's data and
are never masked: the city's phone numbers in them are there to be read.

What is replaced, and by which tag:

- `[メール]` e-mail addresses (full-width ＠ and letters too).
- `[電話]` phone numbers: 0 and 9–10 more digits grouped by hyphens, dots, spaces or parentheses
  (`090-1234-5678`, `(06)6384-1231`, `06(6384)1231`, `090.1234.5678`, `090 1234 5678`), `+81` forms,
  full-width digits and every hyphen look-alike (U+2010–2015, U+2212 minus, U+30FC ー, U+FF0D －);
  a local number (`6384-1231`) only after a phone word (電話, TEL, 携帯, FAX, 連絡先 …). Every phone
  number in a resident's text is masked, the city's own (06-6384-1231) included: telling them apart
  would need a list kept current, and staff lose nothing reading `[電話]` where a resident typed the
  number printed on the city's page.
- `[郵便番号]` `〒564-8550`, `〒5648550`, and `564-8550` / `5648550` after a postcode word (郵便番号, ZIP …).
- `[住所]` block numbers with Arabic or kanji numerals after 丁目 or 番地, or as 番…号
  (`1丁目3番40号`, `一丁目三番四十号`, `123番地の4`), three or four hyphen-joined numbers
  (`3-4-40`), and two (`2-5`) right after a place name; with the town name just before them
  (`千里山西1丁目`; the city and prefecture, 大阪府吹田市, stay).
- `[生年月日]` a date marked as a birth date: 生年月日, 誕生日, 生まれ, DOB … in the 16 characters before
  it, or 生まれ / 生 right after it (`1985年4月1日生まれ`, `生年月日 S60.4.1`, `誕生日は4月1日`,
  `生年月日 1985/04/01`), and any full date in the Shōwa, Taishō or Meiji eras (`昭和60年4月1日`,
  `S60.4.1`): nobody asks the city about events on those days. Other dates stay, because residents
  ask about the dates of events (`2024年4月1日から`, `令和6年4月1日`).
- `[番号]` 12 digits (My Number, also as `1234 5678 9012`), 13–19 digits in groups of at least four
  (card numbers, `4111 1111 1111 1111`), and any other run of 10 or more digits.
- `[氏名]` personal names: words SudachiPy tags 名詞,固有名詞,人名, and any proper noun or unknown word
  followed by an honorific (さん, 様, くん …); see `app.privacy_names`.

Linear time by construction (no backtracking-prone patterns). The text is scanned once for anchors:
'@' signs and maximal runs of digits or kanji numerals, found by a pattern of single character classes
(each character is read once). From an anchor the scanners read forward and backward at most a fixed
number of characters (`_REACH`, `_WINDOW`, the 64/255 limits of an e-mail address), and every pattern is
matched only inside such a bounded window (`pattern.match(text, pos, endpos)`); so each anchor costs at
most a constant whatever a pattern's backtracking, and the whole pass is O(n). Names come from
SudachiPy's lattice, linear in the text, fed in pieces of at most 1,000 characters. Python's `re` (rather
than the google-re2 package) is enough for this and adds no compiled dependency; `bench/privacy_mask.py`
measures it, 20,000 characters costing ~10x 2,000.

Deterministic and idempotent (`mask_pii(mask_pii(t)) == mask_pii(t)`): the original text is kept
outside the masked spans (full-width digits and look-alike hyphens are folded only in a same-length
view used for matching); every context condition is positive (a keyword, a place name, a birth
marker) and is looked for only back to the previous masked span or tag, so masking can only remove
triggers; and names are masked until no piece of the text has one (`app.privacy_names`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from app.privacy_names import NAME, mask_names

PHONE = "[電話]"
ADDRESS = "[住所]"
POSTCODE = "[郵便番号]"
BIRTH_DATE = "[生年月日]"
NUMBER = "[番号]"
EMAIL = "[メール]"
TAGS = (NAME, PHONE, ADDRESS, POSTCODE, BIRTH_DATE, NUMBER, EMAIL)

_HYPHENS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70\ufe58\ufe63\u2043\u02d7\u207b\u208b"
_SPACES = "\t\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
# one character for one: the view has the text's length, so positions in it are positions in the text
_FOLD: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}  # full-width ASCII
_FOLD.update({ord(c): "-" for c in _HYPHENS})
_FOLD.update({ord(c): " " for c in _SPACES})
_FOLD.update({ord(c): "." for c in "\u30fb\uff65\u00b7"})  # middle dots used as separators

DIGITS = "0123456789"
KANJI_DIGITS = "〇一二三四五六七八九十百千"
# anchors: runs of digits or of kanji numerals (元 for 元年)
_RUN = re.compile(rf"[0-9]+|[{KANJI_DIGITS}元]+")
_REACH = 64  # how far an item may reach forward from its anchor
_WINDOW = 16  # how far back a context word may be
_MAX_GROUPS = 6
_SEP_CHARS = " -./()"

_D = "[0-9]{1,5}"
_K = f"[{KANJI_DIGITS}]{{1,6}}"
_X = f"(?:{_D}|{_K})"
_BLOCK = "(?:番地|番|号)"
_ADDRESS_JP = re.compile(
    rf"{_X}(?:丁目|番地|番(?={_X}号))(?:[-の]?{_D}{_BLOCK}?|[-の]?{_K}{_BLOCK}|[-の]{_K}){{0,3}}"
)
_MD = f"(?:[0-9]{{1,2}}|[{KANJI_DIGITS[:11]}]{{1,3}})"
_DATE_JP = re.compile(rf"(?:(?P<y>[0-9]{{1,4}}|{_K}|元)年 ?)?(?P<m>{_MD})月(?: ?(?P<d>{_MD})日)?")
_BIRTH_WORDS = re.compile(r"生年月日|誕生|生まれ|産まれ|うまれ|birth|dob|born")
_BIRTH_AFTER = re.compile(r" ?(?:生まれ|産まれ|うまれ|誕生|born|生(?![\u3400-\u9fff]))")
_POSTCODE_WORDS = re.compile(r"〒|郵便|ゆうびん|postal|post ?code|zip")
_PHONE_WORDS = re.compile(r"電話|でんわ|tel|phone|携帯|ケータイ|ケイタイ|fax|ファックス|ファクス|連絡先|☎|℡")
_ERAS = {"昭和": True, "大正": True, "明治": True, "平成": False, "令和": False}  # True: old era
_ERA_LETTERS = {"S": True, "T": True, "M": True, "H": False, "R": False}
_PLACE_STOP = frozenset("都道府県市区郡")  # the town name starts after these
_NOT_PLACE_BEFORE = frozenset("第約計全各毎年月日時分秒号回期歳才円人件枚階頁章条項問巻版度週")
_ADDRESS_AFTER = frozenset(" \n、。,.!?！？)）」』号番")
_USER_ID = re.compile(r"\bU[0-9a-f]{32}\b")


class _Span(NamedTuple):
    start: int
    end: int
    tag: str


class _Context(NamedTuple):
    prefix: str  # '+' or '(' just before the digits, else ''
    old_era: bool | None  # an era just before: True for 昭和/大正/明治, False for 平成/令和
    before: str  # the context window before the item, lower-cased
    postcode_mark: bool  # 〒 just before
    place_before: bool  # a place name's character just before


def mask_pii(text: str) -> str:
    """Replace names, phone numbers, e-mail addresses, postcodes, addresses, birth dates, My Numbers and
    card numbers with tags (module docstring); the rest of the text is kept as it was."""
    if not text:
        return text
    view = text.translate(_FOLD)
    out: list[str] = []
    last = 0
    for span in _spans(text, view):
        out += (text[last : span.start], span.tag)
        last = span.end
    out.append(text[last:])
    return mask_names("".join(out))


def mask_user_id(user_id: str | None) -> str:
    """Shorten a LINE user ID for logs: `U1234…abcd`."""
    if not user_id:
        return "-"
    return f"{user_id[:5]}…{user_id[-4:]}" if len(user_id) > 12 else "…"


def mask_ids_in(text: str) -> str:
    """Mask every LINE user ID that appears in a free text (e.g. an error body)."""
    return _USER_ID.sub(lambda m: mask_user_id(m.group(0)), text)


def _spans(text: str, view: str) -> list[_Span]:
    """Non-overlapping spans to mask, in order: e-mail addresses first, then one left-to-right pass
    over the runs of digits and kanji numerals."""
    claimed = bytearray(len(view))
    spans = _emails(view, claimed)
    cursor = 0
    for run in _RUN.finditer(view):
        p = run.start()
        if p < cursor or claimed[p]:
            continue
        span = _item_at(text, view, p, run.end(), claimed)
        if span is not None:
            claimed[span.start : span.end] = b"\x01" * (span.end - span.start)
            spans.append(span)
            cursor = span.end
    return sorted(spans)


_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")


def _emails(view: str, claimed: bytearray) -> list[_Span]:
    """E-mail addresses around each '@': at most 64 characters before it and 255 after it (each scan
    stops at the neighbouring '@', so every character is read at most twice)."""
    spans: list[_Span] = []
    at = view.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < 64 and view[start - 1] in _LOCAL and not claimed[start - 1]:
            start -= 1
        end = at + 1
        while end < len(view) and end - at <= 255 and view[end] in _DOMAIN:
            end += 1
        while end > at + 1 and view[end - 1] in ".-":
            end -= 1
        domain = view[at + 1 : end]
        if start < at and "." in domain[1:]:
            claimed[start:end] = b"\x01" * (end - start)
            spans.append(_Span(start, end, EMAIL))
            at = view.find("@", end)
        else:
            at = view.find("@", at + 1)
    return spans


def _item_at(text: str, view: str, p: int, run_end: int, claimed: bytearray) -> _Span | None:
    """The item starting at the run of numerals at `p`, if any."""
    free = claimed.find(1, p, p + _REACH)
    limit = min(len(view), p + _REACH) if free == -1 else free
    if m := _ADDRESS_JP.match(view, p, limit):
        return _Span(_place_start(text, p, claimed), _run_end(view, m.end(), claimed), ADDRESS)
    if (m := _DATE_JP.match(view, p, limit)) and (span := _birth_date_jp(view, p, m, claimed)):
        return span
    if view[p] in DIGITS:
        return _numeric(text, view, p, run_end, claimed)
    return None


def _birth_date_jp(view: str, p: int, m: re.Match[str], claimed: bytearray) -> _Span | None:
    """A date written with 年月日 that is a birth date (module docstring)."""
    year, month, day = m.group("y"), m.group("m"), m.group("d")
    if year is None and day is None:
        return None
    if not all(_in_range(x, hi) for x, hi in ((month, 12), (day, 31))):
        return None
    era = _era_before(view, p, claimed)
    full = year is not None and day is not None
    birth = _birth_marked(view, p, m.end(), claimed) or (full and era is not None and era[1])
    if not birth:
        return None
    return _Span(era[0] if era else p, m.end(), BIRTH_DATE)


def _numeric(text: str, view: str, p: int, run_end: int, claimed: bytearray) -> _Span | None:
    """Digit groups joined by separators, classified by `_classify` (longest item first)."""
    free = claimed.find(1, p, run_end)
    groups = [(p, run_end if free == -1 else free)]
    seps: list[str] = []
    i = groups[0][1]
    free = claimed.find(1, i, i + _REACH)
    limit = min(len(view), i + _REACH) if free == -1 else free
    while len(groups) < _MAX_GROUPS and i < limit:
        k = i
        while k < limit and k - i < 3 and view[k] in _SEP_CHARS:
            k += 1
        if k == i or k >= limit or view[k] not in DIGITS:
            break
        e = k
        while e < limit and view[e] in DIGITS:
            e += 1
        if e == limit and e < len(view) and view[e] in DIGITS:
            break  # a group cut by the limit is not a group
        seps.append(view[i:k])
        groups.append((k, e))
        i = e
    prefix = view[p - 1] if p > 0 and view[p - 1] in "+(" and not claimed[p - 1] else ""
    start = p - len(prefix)
    era = _era_before(view, p, claimed)
    mark = _postcode_mark(view, p, claimed)
    ctx = _Context(
        prefix=prefix,
        old_era=era[1] if era else None,
        before=view[_window_start(view, start, claimed) : start].lower(),
        postcode_mark=mark is not None,
        place_before=start > 0
        and not claimed[start - 1]
        and _place_char(text[start - 1])
        and text[start - 1] not in _NOT_PLACE_BEFORE,
    )
    digits = [view[s:e] for s, e in groups]
    for count in range(len(groups), 0, -1):
        end = groups[count - 1][1]
        after = view[end : min(len(view), end + 4)]
        birth_after = _BIRTH_AFTER.match(after) is not None
        tag = _classify(digits[:count], seps[: count - 1], ctx, after, birth_after)
        if tag == PHONE:
            return _Span(start, end, tag)
        if tag == POSTCODE:
            return _Span(mark if mark is not None else p, end, tag)
        if tag == BIRTH_DATE:
            return _Span(era[0] if era else p, end, tag)
        if tag == ADDRESS:
            return _Span(_place_start(text, p, claimed), end, tag)
        if tag is not None:
            return _Span(p, end, tag)
    return None


def _classify(groups: list[str], seps: list[str], ctx: _Context, after: str, birth_after: bool) -> str | None:
    """The tag of digit groups joined by separators (`seps[i]` between `groups[i]` and the next), or None.

    `after` is the text just after the last group; `birth_after` whether it marks a birth date."""
    digits = "".join(groups)
    lens = [len(g) for g in groups]
    marks = {s.strip() or " " for s in seps}
    simple = len(marks) <= 1 and marks <= {" ", "-"}
    if _phone(groups, seps, ctx.prefix):
        return PHONE
    if (len(digits) == 12 and simple and min(lens) >= 3) or (
        13 <= len(digits) <= 19 and simple and all(n >= 4 for n in lens[:-1])
    ):
        return NUMBER
    if (lens == [7] or (lens == [3, 4] and marks == {"-"})) and (
        ctx.postcode_mark or _POSTCODE_WORDS.search(ctx.before)
    ):
        return POSTCODE
    if _numeric_date(groups, marks, ctx.old_era is not None) and (
        birth_after or _BIRTH_WORDS.search(ctx.before) or (len(groups) == 3 and ctx.old_era)
    ):
        return BIRTH_DATE
    if lens in ([3, 4], [4, 4]) and marks <= {"-", " "} and _PHONE_WORDS.search(ctx.before):
        return PHONE
    if seps and all(s == "-" for s in seps) and max(lens) <= 4 and ctx.prefix != "+":
        if len(groups) in (3, 4) and lens[0] <= 3 and len(digits) <= 10:
            return ADDRESS
        if (
            len(groups) == 2
            and ctx.place_before
            and (not after or after[0] in _ADDRESS_AFTER or _hiragana(after[0]))
        ):
            return ADDRESS
    if len(groups) == 1 and lens[0] >= 10:
        return NUMBER
    return None


def _phone(groups: list[str], seps: list[str], prefix: str) -> bool:
    """A Japanese phone number: domestic (0 and 9–10 digits) or international (+81)."""
    if any("/" in s or s.count("-") + s.count(".") > 1 for s in seps):
        return False
    digits = "".join(groups)
    if prefix == "+":
        rest = digits[2:] if digits.startswith("81") else ""
        rest = rest[1:] if rest.startswith("0") else rest  # +81 (0)6 …
        return len(groups) <= 5 and len(rest) in (9, 10)
    if not digits.startswith("0") or len(digits) not in (10, 11):
        return False
    lens = [len(g) for g in groups]
    return len(groups) == 1 or (len(groups) <= 4 and 2 <= lens[0] <= 5 and max(lens) <= 5 and lens[-1] >= 3)


def _numeric_date(groups: list[str], marks: set[str], era: bool) -> bool:
    """Year/month/day (`1985/04/01`, `S60.4.1` after an era) or month/day joined by one separator."""
    if len(marks) != 1 or not marks <= {"/", "-", "."}:
        return False
    if len(groups) == 3:
        year, month, day = groups
        year_ok = (len(year) == 4 and 1900 <= int(year) <= 2099) or (era and len(year) <= 2)
        return year_ok and _in_range(month, 12) and _in_range(day, 31)
    return len(groups) == 2 and not era and _in_range(groups[0], 12) and _in_range(groups[1], 31)


def _in_range(number: str | None, high: int) -> bool:
    """An Arabic number of one or two digits between 1 and `high`; kanji numerals and absent parts pass."""
    if number is None or number[0] not in DIGITS:
        return True
    return len(number) <= 2 and 1 <= int(number) <= high


def _birth_marked(view: str, start: int, end: int, claimed: bytearray) -> bool:
    """A birth-date word in the window before `start` or a birth marker right after `end`."""
    before = view[_window_start(view, start, claimed) : start].lower()
    after = view[end : min(len(view), end + 4)]
    return _BIRTH_WORDS.search(before) is not None or _BIRTH_AFTER.match(after) is not None


def _window_start(view: str, p: int, claimed: bytearray) -> int:
    """Start of the context before `p`: at most `_WINDOW` characters, never across a masked span,
    a tag's closing bracket or a line break (so a second pass sees the same context or less)."""
    s = p
    low = max(0, p - _WINDOW)
    while s > low and not claimed[s - 1] and view[s - 1] not in "]\n":
        s -= 1
    return s


def _era_before(view: str, p: int, claimed: bytearray) -> tuple[int, bool] | None:
    """(start, old era?) of an era name just before `p`: 昭和60, 昭和 60, S60, S.60."""
    s = p - 1 if p > 0 and view[p - 1] == " " else p
    if s >= 2 and view[s - 2 : s] in _ERAS and not any(claimed[s - 2 : p]):
        return s - 2, _ERAS[view[s - 2 : s]]
    s = s - 1 if s > 0 and view[s - 1] == "." else s
    letter = view[s - 1].upper() if s >= 1 else ""
    word_before = s >= 2 and view[s - 2].isascii() and view[s - 2].isalpha()  # "TELS60" is no era
    if letter in _ERA_LETTERS and not word_before and not any(claimed[s - 1 : p]):
        return s - 1, _ERA_LETTERS[letter]
    return None


def _postcode_mark(view: str, p: int, claimed: bytearray) -> int | None:
    """Position of a 〒 just before `p` (a space between allowed)."""
    s = p - 1 if p > 0 and view[p - 1] == " " else p
    if s > 0 and view[s - 1] == "〒" and not any(claimed[s - 1 : p]):
        return s - 1
    return None


def _run_end(view: str, end: int, claimed: bytearray) -> int:
    """Never leave the rest of a digit run behind a masked span."""
    while 0 < end < len(view) and view[end] in DIGITS and view[end - 1] in DIGITS and not claimed[end]:
        end += 1
    return end


def _place_start(text: str, p: int, claimed: bytearray) -> int:
    """Start of the town name before block numbers at `p` (up to 10 characters, after 市/区/…)."""
    s = p
    low = max(0, p - 10)
    while s > low and not claimed[s - 1] and _place_char(text[s - 1]) and text[s - 1] not in _PLACE_STOP:
        s -= 1
    while s < p and text[s] in "がの":
        s += 1
    return s


def _place_char(ch: str) -> bool:
    """A character of a Japanese place name: kanji, katakana, 々, ヶ, and が/の (朝日が丘, 中の島)."""
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x30A1 <= code <= 0x30FC
        or 0xFF66 <= code <= 0xFF9F
        or ch in "々〆がの"
    )


def _hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"
