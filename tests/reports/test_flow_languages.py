"""The report flow in every resident language (table-driven, no HTTP): every text and label of
`flow.<lang>.txt.j2` renders, labels and category labels fit LINE's 20 characters, each language's
keywords start the flow, and the flow's language follows `app.languages`."""

from __future__ import annotations

from typing import Any

import pytest

from app.languages import LANGUAGES
from reports import line_flow as lf
from reports.line_flow import FlowDraft
from reports.report_kinds import CATEGORIES, MAX_CATEGORY_LABEL

LABELS = ("start", "no", "skip", "next", "cancel", "send", "camera", "camera_roll", "location")
# each macro with the arguments the flow gives it, and what its text must contain
MACROS: list[tuple[str, tuple[Any, ...], tuple[str, ...]]] = [
    ("emergency", (), ("119", "110")),
    ("intro", (), ("119", "110", "4")),
    ("step_category", (1, 4, ""), ("1/4",)),
    ("step_photo", (2, 4, 0, 3), ("2/4", "3")),
    ("step_photo", (2, 4, 1, 3), ("2/4", "1/3")),
    ("step_place", (3, 4), ("3/4",)),
    ("step_note", (4, 4), ("4/4",)),
    ("confirm", ("X-cat", 2, "X-place", "X-note"), ("X-cat", "2", "X-place", "X-note")),
    ("confirm", ("", 0, "", ""), ("0",)),
    ("receipt", ("R-000042",), ("R-000042", "119", "110")),
    ("cancelled", (), ()),
    ("expired", (), ("30",)),
    ("offer", ("image",), ("119", "110")),
    ("offer", ("location",), ("119", "110")),
    ("status", ("R-000042", "checking"), ("R-000042",)),
    ("status", ("R-000042", "handled"), ("R-000042",)),
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_its_own_flow_texts(lang: str) -> None:
    assert lf.flow_lang(lang) == lang


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", LABELS)
def test_every_label_exists_and_fits_a_quick_reply(lang: str, name: str) -> None:
    label = lf.text(f"l_{name}", lang)
    assert 0 < len(label) <= 20, (lang, name, label)
    if lang not in ("ja", "en"):
        assert label != lf.text(f"l_{name}", "en"), "an untranslated label"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("name", "args", "contains"), MACROS)
def test_every_message_renders_in_every_language(
    lang: str, name: str, args: tuple[Any, ...], contains: tuple[str, ...]
) -> None:
    text = lf.text(name, lang, *args)
    assert text and "Undefined" not in text and "{{" not in text and "None" not in text
    for part in contains:
        assert part in text or part.replace("/", " of ") in text, (lang, name, part)  # 2/4, 2 of 4
    if lang != "en":
        assert text != lf.text(name, "en", *args), "an untranslated message"


def test_messages_differ_by_state_in_every_language() -> None:
    for lang in LANGUAGES:
        states = {lf.text("status", lang, "R-1", s) for s in ("new", "checking", "handled")}
        assert len(states) == 3, lang
        assert lf.text("offer", lang, "image") != lf.text("offer", lang, "location"), lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_category_labels_fit_and_differ(lang: str) -> None:
    labels = [c.label(lang) for c in CATEGORIES]
    assert all(0 < len(label) <= MAX_CATEGORY_LABEL for label in labels), labels
    assert len(set(labels)) == len(labels)
    assert all(set(c.labels) == set(LANGUAGES) for c in CATEGORIES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_step_in_every_language_fits_lines_limits(lang: str) -> None:
    for step in (*lf.STEPS, "confirm"):
        message = lf.prompt(FlowDraft(step, lang, category="road" if step == "confirm" else None))
        items = message["quickReply"]["items"]
        assert len(items) <= 13 and all(0 < len(i["action"]["label"]) <= 20 for i in items)
    category_step = lf.prompt(FlowDraft("category", lang))
    shown = [i["action"]["label"] for i in category_step["quickReply"]["items"]]
    assert shown[: len(CATEGORIES)] == [c.label(lang) for c in CATEGORIES]  # whole, never cut


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_languages_keywords_start_the_flow_and_the_texts_name_one(lang: str) -> None:
    for word in lf.START_WORDS_BY_LANG[lang]:
        turn = lf.on_event(None, "text", word.upper() + "!", lang)
        assert turn is not None and turn.draft is not None and turn.draft.step == "category", word
        assert turn.draft.lang == lang
    for name in ("cancelled", "expired"):  # "to start again, send ..." names a real keyword
        said = lf.normalized(lf.text(name, lang))
        assert any(word in said for word in lf.START_WORDS_BY_LANG[lang]), (lang, name)


@pytest.mark.parametrize(
    ("typed", "lang"),
    [("피해 신고。", "ko"), ("报告灾情", "zh-Hans"), ("Báo cáo thiệt hại.", "vi"), ("Relatar danos", "pt")],
)
def test_keywords_are_whole_messages_only(typed: str, lang: str) -> None:
    assert lf.on_event(None, "text", typed, lang) is not None
    assert lf.on_event(None, "text", f"{typed} {typed}", lang) is None
    assert lf.on_event(None, "text", "x" + typed, lang) is None


@pytest.mark.parametrize(
    ("typed", "lang"), [("취소", "ko"), ("hủy", "vi"), ("Cancelar", "pt"), ("取消", "zh-Hans")]
)
def test_cancel_words_in_each_language(typed: str, lang: str) -> None:
    turn = lf.on_event(FlowDraft("place", lang), "text", typed, lang)
    assert turn is not None and turn.draft is None
    assert turn.messages[0]["text"] == lf.text("cancelled", lang)


def test_a_category_typed_in_any_language_is_chosen() -> None:
    turn = lf.on_event(FlowDraft("category", "vi"), "text", "Ngập nước", "vi")
    assert turn is not None and turn.draft is not None and turn.draft.category == "flood"
    turn = lf.on_event(FlowDraft("category", "pt"), "text", "incêndio", "pt")
    assert turn is not None and turn.draft is not None and turn.draft.category == "fire"


def test_a_language_without_flow_texts_uses_its_registered_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lf, "_has_texts", lambda lang: lang in ("ja", "en"))
    assert [lf.flow_lang(lang) for lang in ("pt", "zh-Hans", "ja-easy", "en", "ja")] == [
        "en", "en", "ja", "en", "ja"
    ]  # fmt: skip
    assert lf.start("ko").draft == FlowDraft("category", "en")


def test_unknown_language_ids_never_name_a_template() -> None:
    for odd in ("xx", "../bot/menu", "", "ja/../en"):
        assert lf.flow_lang(odd) == "ja"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_receipts_and_status_pushes_follow_the_reporters_language(lang: str) -> None:
    receipt = lf.receipt("R-000007", lang)["text"]
    push = lf.status_message("R-000007", "handled", lang)["text"]
    assert receipt == lf.text("receipt", lang, "R-000007") and "R-000007" in push
    assert push == lf.text("status", lang, "R-000007", "handled")
