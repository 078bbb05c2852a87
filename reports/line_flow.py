"""The damage-report flow on LINE, as a pure function: (the resident's draft, what they did) → the
messages and the draft to keep. No I/O; `reports.flow_hook` loads and stores drafts and reports.

Four steps, each skippable, cancellable at any time: what happened (category quick replies), photos
(camera and camera-roll quick replies, up to 3), where (location quick reply, or a typed address or
landmark), a note; then a summary to confirm. A photo or location sent out of the blue offers to start
a report with it. Started by a keyword in any resident language (被害を報告, 피해 신고, report damage, ...)
or the postback `a=rp&s=start` (the disaster rich menu's button). It speaks the resident's language
(`flow_lang`): its texts are `templates/messages/reports/flow.<lang>.txt.j2`.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import TemplateNotFound

from app.languages import BY_ID as BY_LANG
from app.languages import LANGUAGES, fallback_chain
from app.templating import jinja_env
from bot.conversation.line_messages import Message, QuickItem, clip, postback_item, text_message
from bot.intake.webhook_events import media_parts
from reports.report_kinds import BY_ID, CATEGORIES, OTHER, category_label

STEPS = ("category", "photo", "place", "note")
TOTAL = len(STEPS)
MAX_PHOTOS = 3
DRAFT_MINUTES = 30
ACTION = "rp"  # postback data `a=rp&s=<what>[&c=<category>]`
_TRAILING = " 　!！?？。.、,"
# Whole messages (normalized: NFKC, lower case, trailing punctuation cut) that start a report, by the
# language they are written in; the flow itself speaks the resident's language.
START_WORDS_BY_LANG: dict[str, tuple[str, ...]] = {
    "ja": ("被害を報告", "被害を報告する", "被害報告", "通報", "通報する", "災害報告"),
    "ja-easy": ("ひがいを ほうこく", "ひがいをほうこく", "ひがいを ほうこくする"),
    "en": ("report damage", "damage report"),
    "zh-Hans": ("报告灾情", "报告受灾", "灾情报告", "报告损失", "报告灾害"),
    "ko": ("피해 신고", "피해신고", "피해 신고하기", "재해 신고"),
    "vi": ("báo cáo thiệt hại", "bao cao thiet hai", "báo thiệt hại"),
    "pt": ("relatar danos", "relatar dano", "reportar danos", "informar danos"),
}
START_WORDS = frozenset(w for words in START_WORDS_BY_LANG.values() for w in words)
CANCEL_WORDS = frozenset(
    {
        "やめる",
        "キャンセル",
        "中止",
        "cancel",
        "stop",
        "取消",
        "취소",
        "hủy",
        "huỷ",
        "huy",
        "cancelar",
        "parar",
    }
)


@dataclass(frozen=True)
class FlowDraft:
    """A report in progress: `step` is "offer" (asked whether to start) or one of `STEPS` or "confirm"."""

    step: str
    lang: str
    category: str | None = None
    photos: tuple[str, ...] = ()  # LINE message IDs
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    note: str | None = None

    def dumps(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "step"}, ensure_ascii=False)

    @staticmethod
    def loads(step: str, text: str) -> FlowDraft:
        data: dict[str, Any] = json.loads(text or "{}")
        data["photos"] = tuple(str(p) for p in data.get("photos", ()))[:MAX_PHOTOS]
        known = {k: v for k, v in data.items() if k in FlowDraft.__dataclass_fields__ and k != "step"}
        return FlowDraft(step=step, **known)


@dataclass(frozen=True)
class FlowTurn:
    """What to send, the draft to keep (None: delete it), whether to file the report now (the receipt
    is made once it has a number), and whether the bot's own conversation answers too."""

    messages: list[Message] = field(default_factory=list)
    draft: FlowDraft | None = None
    submit: bool = False
    then_default: bool = False


# ---- texts ----


def flow_lang(lang: str) -> str:
    """The flow's language: `lang` when its texts exist (`flow.<lang>.txt.j2`), else the first of its
    fallbacks in `app.languages` that has them (Japanese last)."""
    return next((step for step in fallback_chain(lang) if _has_texts(step)), "ja")


def _template(lang: str) -> str:
    return f"messages/reports/flow.{lang}.txt.j2"


@lru_cache(maxsize=32)
def _has_texts(lang: str) -> bool:
    if lang not in BY_LANG:  # only registered ids name a file (no path from a stored value)
        return False
    try:
        jinja_env().get_template(_template(lang))
    except TemplateNotFound:
        return False
    return True


@lru_cache(maxsize=len(LANGUAGES))
def _texts(lang: str) -> Any:
    return jinja_env().get_template(_template(lang)).module


def text(name: str, lang: str, *args: Any) -> str:
    """A message of `templates/messages/reports/flow.<lang>.txt.j2` (a macro), or a label (`l_*`)."""
    value = getattr(_texts(flow_lang(lang)), name)
    return str(value(*args)).strip() if callable(value) else str(value)


def encode(what: str, **params: str) -> str:
    return urlencode({"a": ACTION, "s": what, **params})


def decode(data: str) -> dict[str, str] | None:
    """The flow's postback (`{"s": ..., "c": ...}`), or None when the data is not the flow's."""
    if not data.startswith(f"a={ACTION}&") or len(data) > 300:
        return None
    try:
        params = dict(parse_qsl(data, strict_parsing=True, max_num_fields=4))
    except ValueError:
        return None
    return params if params.get("a") == ACTION and params.get("s") else None


def _button(what: str, lang: str, **params: str) -> QuickItem:
    label = text(f"l_{what}", lang)
    return postback_item(label, encode(what, **params), label)


def _action(kind: str, lang: str) -> QuickItem:
    return {"type": "action", "action": {"type": kind, "label": clip(text(f"l_{_SNAKE[kind]}", lang), 20)}}


_SNAKE = {"camera": "camera", "cameraRoll": "camera_roll", "location": "location"}


# ---- steps ----


def prompt(draft: FlowDraft, note: str = "") -> Message:
    """The question of the draft's step, with its quick replies."""
    lang, n = draft.lang, STEPS.index(draft.step) + 1 if draft.step in STEPS else TOTAL
    skip, cancel = _button("skip", lang), _button("cancel", lang)
    if draft.step == "category":
        cats = [postback_item(c.label(lang), encode("cat", c=c.id), c.label(lang)) for c in CATEGORIES]
        return text_message(text("step_category", lang, n, TOTAL, note), [*cats, skip, cancel])
    if draft.step == "photo":
        count = len(draft.photos)
        onward = _button("next", lang) if count else skip
        actions = [_action("camera", lang), _action("cameraRoll", lang), onward, cancel]
        return text_message(text("step_photo", lang, n, TOTAL, count, MAX_PHOTOS), actions)
    if draft.step == "place":
        return text_message(text("step_place", lang, n, TOTAL), [_action("location", lang), skip, cancel])
    if draft.step == "note":
        return text_message(text("step_note", lang, n, TOTAL), [skip, cancel])
    place = draft.address or (f"{draft.lat:.5f}, {draft.lon:.5f}" if draft.lat is not None else "")
    category = category_label(draft.category, lang) if draft.category else ""
    summary = text("confirm", lang, category, len(draft.photos), place, draft.note or "")
    return text_message(summary, [_button("send", lang), cancel])


def following(step: str) -> str:
    return STEPS[STEPS.index(step) + 1] if step in STEPS[:-1] else "confirm"


def start(lang: str, base: FlowDraft | None = None) -> FlowTurn:
    """The introduction (with 119/110) and the first question."""
    lang = flow_lang(lang)
    draft = replace(base, step="category", lang=lang) if base is not None else FlowDraft("category", lang)
    return FlowTurn([text_message(text("intro", lang)), prompt(draft)], draft)


def normalized(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip(_TRAILING).lower()


def on_event(
    draft: FlowDraft | None, kind: str, data: str, lang: str, *, expired: bool = False
) -> FlowTurn | None:
    """The flow's turn for an event, or None when the flow does not take it (the bot answers)."""
    button = decode(data) if kind == "postback" else None
    words = normalized(data[:200]) if kind == "text" else ""
    if draft is None:
        return _without_draft(kind, data, lang, button, words, expired)
    lang = draft.lang
    if (button or {}).get("s") == "cancel" or words in CANCEL_WORDS:
        return FlowTurn([text_message(text("cancelled", lang))], None)
    if words in START_WORDS or ((button or {}).get("s") == "start" and draft.step != "offer"):
        return start(lang)
    if kind in ("follow", "unfollow") or (kind == "postback" and button is None):
        return None  # the bot's own buttons work during a report; the draft stays
    if draft.step == "offer":
        what = (button or {}).get("s")
        if what == "start":
            return start(lang, draft)
        if what == "no":
            return FlowTurn([text_message(text("cancelled", lang))], None)
        return FlowTurn([], None, then_default=True)  # they moved on: forget the offer, the bot answers
    if (button or {}).get("s") in ("skip", "next"):
        return _advance(draft)
    return _answer(draft, kind, data, button, words)


def _without_draft(
    kind: str, data: str, lang: str, button: dict[str, str] | None, words: str, expired: bool
) -> FlowTurn | None:
    if words in START_WORDS or (button or {}).get("s") == "start":
        return start(lang)
    if button is not None:  # a button of a report that is gone (expired, sent or cancelled)
        return FlowTurn([text_message(text("expired" if expired else "cancelled", lang))], None)
    if kind == "media":
        media, details = media_parts(data)
        offered = _with_media(FlowDraft("offer", flow_lang(lang)), media, details)
        if offered is not None:
            items = [_button("start", offered.lang), _button("no", offered.lang)]
            return FlowTurn([text_message(text("offer", offered.lang, media), items)], offered)
    return None


def _with_media(draft: FlowDraft, media: str, details: dict[str, Any]) -> FlowDraft | None:
    """The draft with a photo or a place added, or None when the media is neither."""
    if media == "image" and isinstance(details.get("id"), str) and len(details["id"]) <= 64:
        if len(draft.photos) >= MAX_PHOTOS:
            return draft
        return replace(draft, photos=(*draft.photos, details["id"]))
    if media == "location":
        lat, lon = details.get("lat"), details.get("lon")
        if (
            isinstance(lat, int | float)
            and isinstance(lon, int | float)
            and -90 <= lat <= 90
            and -180 <= lon <= 180
        ):
            address = str(details.get("title") or details.get("address") or "")[:200] or None
            return replace(draft, lat=float(lat), lon=float(lon), address=address)
    return None


def _advance(draft: FlowDraft) -> FlowTurn:
    moved = replace(draft, step=following(draft.step)) if draft.step != "confirm" else draft
    if moved.step == "photo" and draft.step == "category" and draft.category is None:
        moved = replace(moved, category=OTHER)
    return FlowTurn([prompt(moved)], moved)


def _answer(draft: FlowDraft, kind: str, data: str, button: dict[str, str] | None, words: str) -> FlowTurn:
    """An answer to the current step; a mismatch asks the step's question again."""
    step = draft.step
    if step == "category":
        chosen = (button or {}).get("c") if (button or {}).get("s") == "cat" else _category_named(words)
        if chosen in BY_ID:
            return _advance(replace(draft, category=chosen))
    elif step == "photo" and kind == "media":
        media, details = media_parts(data)
        added = _with_media(draft, media, details) if media == "image" else None
        if added is not None:
            return _advance(added) if len(added.photos) >= MAX_PHOTOS else FlowTurn([prompt(added)], added)
    elif step == "place":
        if kind == "media":
            placed = _with_media(draft, *media_parts(data))
            if placed is not None and placed.lat is not None:
                return _advance(placed)
        elif kind == "text" and data.strip():
            return _advance(replace(draft, address=data.strip()[:200]))
    elif step == "note" and kind == "text" and data.strip():
        return _advance(replace(draft, note=data.strip()[:1000]))
    elif step == "confirm" and (button or {}).get("s") == "send":
        return FlowTurn([], None, submit=True)
    return FlowTurn([prompt(draft)], draft)


def _category_named(words: str) -> str | None:
    """A category whose label (in any language) is the whole message."""
    return next((c.id for c in CATEGORIES if words in _NAMED[c.id]), None)


_NAMED = {c.id: frozenset(normalized(label) for label in c.labels.values()) for c in CATEGORIES}


def receipt(number: str, lang: str) -> Message:
    return text_message(text("receipt", lang, number))


def status_message(number: str, status: str, lang: str) -> Message:
    return text_message(text("status", lang, number, status))


def report_number(report_id: int) -> str:
    """How residents and staff name a report: `R-000042`."""
    return f"R-{report_id:06d}"
