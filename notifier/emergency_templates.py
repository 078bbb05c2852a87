"""The emergency template library: ready-made posts in every resident language with slots staff fill
once (area, shelters, time, …), from `notifier/data/emergency_templates.json`.

`fill(id, slots, texts)` gives every language's title and body. Staff may edit a language's text
(`notifier.template_revisions`): the caller passes the approved edits in (`texts`, the *effective* texts)
and they replace the shipped ones; `text_problems` checks an edit as the shipped file is checked (the same
slots, no stray braces, the length caps). Place slots (`place_slots`) take a Japanese name,
optionally with its reading in kana (`{"name": "千里山西", "kana": "せんりやまにし"}`), or a list of them:
Japanese shows the name, easy Japanese the name with the kana in brackets, the other languages the name
with its romanised reading (`千里山西 (Senriyamanishi)`). A `time` slot in ISO form
(`2026-12-06T15:00`) or `15:00` is written each language's way; any other text is kept as typed.
Pure functions over the loaded file and the texts passed in.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from app.languages import BY_ID, LANGUAGES, base_language

DATA = Path(__file__).resolve().parent / "data" / "emergency_templates.json"
SLOT = re.compile(r"\{([a-z_]{1,32})\}")
MAX_SLOT = 300
TITLE_MAX = 200
BODY_MAX = 4000


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(min_length=1, max_length=BODY_MAX)


class Review(BaseModel):
    """Who checked one language's text, and when."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100)
    on: dt.date


class EmergencyTemplate(BaseModel):
    """One template: its slots, which of them are place names, its text per language and reviews."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    slots: list[str]
    place_slots: list[str] = Field(default_factory=list)
    texts: dict[str, Text]
    reviewed: dict[str, Review | None]

    @model_validator(mode="after")
    def _complete(self) -> EmergencyTemplate:
        missing = [lang for lang in LANGUAGES if lang not in self.texts]
        if missing:
            raise ValueError(f"template {self.id}: no text in {', '.join(missing)}")
        for lang, text in self.texts.items():
            used = set(SLOT.findall(text.title + text.body))
            if used != set(self.slots):
                raise ValueError(f"template {self.id} ({lang}): slots {sorted(used)} != {sorted(self.slots)}")
        return self

    def effective(self, texts: Mapping[str, Text] | None = None) -> dict[str, Text]:
        """Every language's text: the approved edit in `texts` where there is one, else the shipped one."""
        return {lang: (texts or {}).get(lang, text) for lang, text in self.texts.items()}

    def title_in(self, texts: Mapping[str, Text]) -> str:
        """The (effective) Japanese title without its slots (the staff list)."""
        return SLOT.sub("", self.effective(texts)["ja"].title).strip()

    def listing(self, texts: Mapping[str, Text], reviewed_on: Mapping[str, str | None]) -> dict[str, Any]:
        """`GET /api/v1/emergency-templates`'s item, from the effective texts (approved edits by
        language) and the day each language's text in force was reviewed (ISO date; None: never)."""
        return {
            "id": self.id,
            "title": self.title_in(texts),
            "slots": list(self.slots),
            "languages": [lang for lang in LANGUAGES if lang in self.texts],
            "reviewed": {lang: reviewed_on.get(lang) for lang in LANGUAGES},
        }


@lru_cache(maxsize=1)
def library() -> dict[str, EmergencyTemplate]:
    """Every template by id (read once; the file is checked: every language, the same slots)."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return {t["id"]: EmergencyTemplate.model_validate(t) for t in data["templates"]}


class Place(BaseModel):
    """A place name in Japanese and, optionally, its reading in kana."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kana: str | None = Field(default=None, max_length=200, pattern=r"^[\u3041-\u309f\u30a0-\u30ff ・ー]+$")


SlotValue = str | Place | list[str | Place]
_SLOTS = TypeAdapter(dict[str, SlotValue])


class TemplateProblem(ValueError):
    """The template reference cannot be filled; `ja` and `en` say why, naming the slot."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja, self.en = ja, en


def missing_slots(template: EmergencyTemplate, slots: dict[str, Any]) -> list[str]:
    return [name for name in template.slots if not _given(slots.get(name))]


def _given(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_given(v) for v in value)
    if isinstance(value, Place):
        return bool(value.name.strip())
    return isinstance(value, str) and bool(value.strip())


def check(template_id: str, slots: dict[str, Any]) -> EmergencyTemplate:
    """The template, or `TemplateProblem` naming an unknown template, missing or unknown slots."""
    template = library().get(template_id)
    if template is None:
        known = ", ".join(library())
        raise TemplateProblem(
            f"{template_id!r} というテンプレートはありません", f"unknown template {template_id!r} ({known})"
        )
    if missing := missing_slots(template, slots):
        names = ", ".join(missing)
        raise TemplateProblem(f"次の項目を入力してください: {names}", f"missing slot(s): {names}")
    if extra := sorted(set(slots) - set(template.slots)):
        names = ", ".join(extra)
        raise TemplateProblem(
            f"このテンプレートにない項目です: {names}", f"not a slot of {template.id}: {names}"
        )
    return template


def fill(template_id: str, slots: dict[str, Any], texts: Mapping[str, Text] | None = None) -> dict[str, Text]:
    """Every language's title and body with the slots filled (raises `TemplateProblem`; values as
    `SlotValue` or their JSON); `texts` are the template's approved edits by language."""
    slots = _SLOTS.validate_python(slots)
    template = check(template_id, slots)
    filled = {}
    for lang, text in template.effective(texts).items():
        values = {name: slot_text(slots[name], lang, name in template.place_slots) for name in template.slots}
        filled[lang] = Text(
            title=_cut(_substitute(text.title, values), TITLE_MAX), body=_substitute(text.body, values)
        )
    return filled


BRACE = re.compile(r"[{}]")


def text_problems(template: EmergencyTemplate, title: str, body: str) -> list[tuple[str, str]]:
    """What is wrong with an edited text of `template` as `(ja, en)` pairs naming the slot or the
    limit (empty: fine). Every slot must appear, no other `{name}`, no stray brace (pure)."""
    problems: list[tuple[str, str]] = []
    for field, text, limit in (("title", title, TITLE_MAX), ("body", body, BODY_MAX)):
        label = "題名" if field == "title" else "本文"
        if not text.strip():
            problems.append((f"{label}を入力してください", f"{field}: required"))
        elif len(text) > limit:
            problems.append(
                (
                    f"{label}は {limit:,} 文字以内にしてください({len(text):,} 文字)",
                    f"{field}: at most {limit:,} characters",
                )
            )
        elif BRACE.search(SLOT.sub("", text)):
            problems.append(
                (
                    f"{label}に項目ではない波かっこ {{ }} があります(項目は {{area}} のように書きます)",
                    f"{field}: a brace that is not a slot (slots are written like {{area}})",
                )
            )
    used = set(SLOT.findall(title + body))
    if missing := [f"{{{name}}}" for name in template.slots if name not in used]:
        problems.append((f"項目 {'、'.join(missing)} がありません", f"missing slot(s) {', '.join(missing)}"))
    if unknown := sorted(used - set(template.slots)):
        names = ", ".join(f"{{{n}}}" for n in unknown)
        known = ", ".join(f"{{{n}}}" for n in template.slots)
        problems.append(
            (
                f"このテンプレートにない項目です: {names}(使える項目: {known})",
                f"unknown slot(s) {names} (slots: {known})",
            )
        )
    return problems


def _substitute(text: str, values: dict[str, str]) -> str:
    return SLOT.sub(lambda m: values[m.group(1)], text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slot_text(value: SlotValue, lang: str, place: bool) -> str:
    """One slot's value as `lang` shows it."""
    if isinstance(value, list):
        sep = "、" if base_language(lang) == "ja" or lang == "zh-Hans" else ", "
        return sep.join(slot_text(v, lang, place) for v in value)
    if isinstance(value, Place):
        if not place or not value.kana:
            return value.name[:MAX_SLOT]
        if lang == "ja":
            return value.name
        if lang == "ja-easy":
            return f"{value.name}({value.kana})"
        return f"{value.name} ({romaji(value.kana)})"
    text = value.strip()[:MAX_SLOT]
    return local_time(text, lang) if SLOT_TIME.match(text) else text


SLOT_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T)?\d{1,2}:\d{2}$")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def local_time(text: str, lang: str) -> str:
    """`2026-12-06T15:00` or `15:00` the way `lang` writes it (Japan time, as typed)."""
    if "T" not in text:
        return text
    when = dt.datetime.fromisoformat(text)
    hm = f"{when.hour}:{when.minute:02d}"
    m, d = when.month, when.day
    return {
        "ja": f"{m}月{d}日 {hm}",
        "ja-easy": f"{m}がつ{d}にち {hm}",
        "zh-Hans": f"{m}月{d}日{hm}",
        "ko": f"{m}월 {d}일 {hm}",
        "vi": f"{hm} ngày {d}/{m}",
        "pt": f"{hm} de {d}/{m}",
    }.get(lang, f"{hm} on {d} {_MONTHS_EN[m - 1]}")


# Hepburn romanisation of kana (place-name readings for the foreign-language texts).
_KANA = (
    "あa いi うu えe おo かka きki くku けke こko さsa しshi すsu せse そso たta ちchi つtsu てte とto "
    "なna にni ぬnu ねne のno はha ひhi ふfu へhe ほho まma みmi むmu めme もmo やya ゆyu よyo "
    "らra りri るru れre ろro わwa をo んn がga ぎgi ぐgu げge ごgo ざza じji ずzu ぜze ぞzo "
    "だda ぢji づzu でde どdo ばba びbi ぶbu べbe ぼbo ぱpa ぴpi ぷpu ぺpe ぽpo ゔvu ぁa ぃi ぅu ぇe ぉo"
)
_MONO = {item[0]: item[1:] for item in _KANA.split()}
_SMALL_Y = {"ゃ": "a", "ゅ": "u", "ょ": "o"}


def romaji(kana: str) -> str:
    """`せんりやまにし` → `Senriyamanishi` (katakana too; っ doubles, ー is dropped, ゃゅょ join)."""
    hira = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)
    out: list[str] = []
    double = False
    for ch in hira:
        if ch == "っ":
            double = True
            continue
        if ch in _SMALL_Y and out:
            prev = out.pop()
            stem = prev[:-1]
            part = (stem if stem.endswith(("sh", "ch", "j")) else stem + "y") + _SMALL_Y[ch]
        elif ch in _MONO:
            part = _MONO[ch]
        elif ch in "ー・ ":
            part = " " if ch != "ー" else ""
        else:
            part = ch
        if double and part:
            part = ("t" if part.startswith("ch") else part[0]) + part
            double = False
        out.append(part)
    words = "".join(out).split()
    return " ".join(w[:1].upper() + w[1:] for w in words)


def languages_named() -> dict[str, str]:
    """Each language's name in Japanese (the staff page)."""
    return {lang: BY_ID[lang].japanese for lang in LANGUAGES}
