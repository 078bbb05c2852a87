"""Emergency templates: the library (every language, the same slots), the API listing, posts filled
from a template (every language under `variants`, a missing slot refused by name) and a LINE topic
push that reaches each resident in their own language."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.languages import LANGUAGES
from app.settings import Settings
from bot.bot_tables import LineUser, TopicSubscription
from notifier import emergency_templates as et
from tests.notifier.conftest import Fakes, post_data, run_worker, schedule, shown
from tests.notifier.test_line_push import line_only, multicasts

REQUIRED = {
    "evacuation-level3-elderly",
    "evacuation-level4-instruction",
    "evacuation-level5-emergency",
    "evacuation-lifted",
    "shelter-opened",
    "shelter-closed",
    "heavy-rain-warning",
    "flood-warning",
    "landslide-alert",
    "earthquake",
    "aftershock-advice",
    "water-outage",
    "power-outage",
    "all-clear",
}
AREA = {"name": "千里山西", "kana": "せんりやまにし"}
SHELTERS = [{"name": "千里第二小学校", "kana": "せんりだいにしょうがっこう"}, "市民体育館"]
ORDER: dict[str, Any] = {
    "id": "evacuation-level4-instruction",
    "slots": {"area": AREA, "shelters": SHELTERS, "time": "2026-12-06T15:00"},
}


@pytest.fixture
def settings(sns_settings: Settings) -> Settings:
    return sns_settings


def test_the_library_has_every_kind_in_every_language() -> None:
    assert set(et.library()) == REQUIRED
    for template in et.library().values():
        assert set(template.texts) == set(LANGUAGES)
        assert set(template.reviewed) == set(LANGUAGES)


@pytest.mark.parametrize("template_id", sorted(REQUIRED))
def test_every_template_fills_in_every_language(template_id: str) -> None:
    template = et.library()[template_id]
    values: dict[str, Any] = {
        "area": AREA,
        "shelters": SHELTERS,
        "time": "2026-12-06T15:00",
        "river": {"name": "神崎川", "kana": "かんざきがわ"},
        "place": {"name": "市役所", "kana": "しやくしょ"},
        "intensity": "5弱",
    }
    filled = et.fill(template_id, {k: values[k] for k in template.slots})
    for lang, text in filled.items():
        assert "{" not in text.title + text.body, (template_id, lang)
        for place in template.place_slots:
            if lang not in ("ja", "ja-easy"):  # Japanese name, with its reading
                first = values[place] if isinstance(values[place], dict) else values[place][0]
                assert f"({et.romaji(first['kana'])})" in text.body + text.title


@pytest.mark.parametrize(
    ("kana", "romaji"),
    [
        ("せんりやまにし", "Senriyamanishi"),
        ("きっしょう", "Kisshou"),
        ("ちゅうおう", "Chuuou"),
        ("スイタ", "Suita"),
        ("まっちゃ", "Matcha"),
    ],
)
def test_readings_are_romanised(kana: str, romaji: str) -> None:
    assert et.romaji(kana) == romaji


def test_times_are_written_each_languages_way() -> None:
    assert [et.local_time("2026-12-06T15:00", lang) for lang in ("ja", "en", "ko", "vi", "pt")] == [
        "12月6日 15:00",
        "15:00 on 6 December",
        "12월 6일 15:00",
        "15:00 ngày 6/12",
        "15:00 de 6/12",
    ]


def test_the_api_needs_a_staff_session(client: TestClient) -> None:
    assert client.get("/api/v1/emergency-templates").status_code == 401


def test_the_api_lists_templates_with_slots_languages_and_reviews(staff_client: TestClient) -> None:
    listed = staff_client.get("/api/v1/emergency-templates").json()
    by_id = {t["id"]: t for t in listed}
    assert set(by_id) == REQUIRED
    order = by_id["evacuation-level4-instruction"]
    added = {"reviewed_by": dict.fromkeys(LANGUAGES), "awaiting_approval": []}  # detail added by issue 15
    assert {k: order.pop(k) for k in added} == added
    assert order == {
        "id": "evacuation-level4-instruction",
        "title": "【警戒レベル4】避難指示",
        "slots": ["area", "shelters", "time"],
        "languages": list(LANGUAGES),
        "reviewed": dict.fromkeys(LANGUAGES),
    }


def test_a_post_from_a_template_carries_every_language(staff_client: TestClient) -> None:
    data = post_data(channels=["line"], topic="bousai", urgency="emergency", template=ORDER)
    del data["title"], data["body"]
    r = staff_client.post("/api/v1/posts", json=data)
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["title"] == "【警戒レベル4】避難指示 千里山西"
    assert set(post["variants"]) == set(LANGUAGES) - {"ja"}
    assert post["variants"]["vi"]["title"] == "[Cảnh báo cấp 4] Chỉ thị sơ tán 千里山西 (Senriyamanishi)"
    assert "千里第二小学校 (Senridainishougakkou), 市民体育館" in post["variants"]["en"]["body"]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ({"id": "evacuation-level4-instruction", "slots": {"area": "千里山西", "time": "15:00"}}, "shelters"),
        ({"id": "evacuation-level4-instruction", "slots": {**ORDER["slots"], "shelters": []}}, "shelters"),
        ({"id": "no-such", "slots": {}}, "unknown template 'no-such'"),
        ({"id": "all-clear", "slots": {"time": "15:00", "area": "x"}}, "not a slot of all-clear: area"),
    ],
)
def test_a_template_that_cannot_be_filled_is_refused_by_name(
    staff_client: TestClient, template: dict[str, Any], words: str
) -> None:
    data = post_data(channels=["line"], template=template)
    del data["title"], data["body"]
    r = staff_client.post("/api/v1/posts", json=data)
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "template" and words in problem["message"]
    assert problem["message"].startswith("テンプレート: ")


def test_an_evacuation_order_reaches_every_resident_in_their_language(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    with sessions.begin() as s:
        for i, lang in enumerate(LANGUAGES * 3):
            uid = f"U{i:032x}"
            s.add(LineUser(user_id=uid, language=lang, profile_language="ja"))
            s.add(TopicSubscription(user_id=uid, topic="bousai"))
    post_id = schedule(
        sns_settings,
        sessions,
        channels=["line"],
        topic="bousai",
        urgency="emergency",
        template=ORDER,
        title="",
        body="",
        link=None,
    )
    run_worker(sns_settings, channels=line_only(sns_settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "sent"
    got = {uid: call.messages[0]["text"] for call in multicasts(fakes) for uid in call.to}
    assert len(got) == 21
    starts = {
        "ja": "［防災・防犯］【緊急】【警戒レベル4】避難指示 千里山西",
        "ja-easy": "[さいがい・あんぜん] 【きんきゅう】 【レベル4】",
        "en": "[Disaster & safety] [EMERGENCY] [Alert Level 4] Evacuation Instruction",
        "zh-Hans": "[防灾・治安] 【紧急】 【警戒等级4】避难指示",
        "ko": "[방재·방범] [긴급] [경계 레벨 4] 피난 지시",
        "vi": "[Thiên tai, an ninh] [KHẨN CẤP] [Cảnh báo cấp 4] Chỉ thị sơ tán",
        "pt": "[Desastre/segurança] [EMERGÊNCIA] [Nível de alerta 4] Instrução de evacuação",
    }
    for i, lang in enumerate(LANGUAGES * 3):
        assert got[f"U{i:032x}"].startswith(starts[lang]), (lang, got[f"U{i:032x}"][:80])
        assert "千里山西" in got[f"U{i:032x}"]


def test_facebook_carries_an_emergencys_english_below_the_japanese(sns_settings: Settings) -> None:
    from notifier.compose import prepare
    from storage.base import utcnow

    data = post_data(
        channels=["facebook", "x"],
        urgency="emergency",
        template=ORDER,
        title="",
        body="",
        channel_texts={"x": "千里山西に避難指示。市のウェブサイトを確認してください。"},
    )
    texts = prepare(data, sns_settings, utcnow()).texts
    (facebook,) = texts["facebook"]["ja"]
    assert facebook.startswith("【緊急】【警戒レベル4】避難指示 千里山西")
    assert "\n\n[EMERGENCY] [Alert Level 4] Evacuation Instruction: 千里山西 (Senriyamanishi)" in facebook
    # X: the Japanese post itself stays Japanese (280 characters); English goes in a reply
    assert "Evacuation Instruction" not in texts["x"]["ja"][0]
