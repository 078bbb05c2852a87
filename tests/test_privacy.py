from __future__ import annotations

import pytest

from app.privacy import mask_ids_in, mask_pii, mask_user_id


@pytest.mark.parametrize(
    ("text", "gone", "tag"),
    [
        ("電話は06-6384-1231です", "6384", "[電話]"),
        ("携帯 090-1234-5678 まで", "1234-5678", "[電話]"),
        ("携帯09012345678", "09012345678", "[電話]"),
        ("メール taro.suita@example.jp に", "taro.suita@example.jp", "[メール]"),
        ("マイナンバー 1234 5678 9012 です", "9012", "[番号]"),
        ("番号123456789012", "123456789012", "[番号]"),
        ("住所は吹田市泉町1丁目3番40号です", "泉町1丁目", "[住所]"),
        ("大阪府吹田市千里山西2-5-1 に住んでいます", "千里山西2-5-1", "[住所]"),
        ("ｔｅｌ０６－６３８４－１２３１", "6384", "[電話]"),
    ],
)
def test_mask_pii_removes_personal_details(text: str, gone: str, tag: str) -> None:
    masked = mask_pii(text)
    assert gone not in masked
    assert tag in masked


@pytest.mark.parametrize(
    "text",
    ["住民票をコンビニで取りたい", "2024年4月1日から", "保育園は3歳から", "ごみの日は月曜日"],
)
def test_mask_pii_keeps_ordinary_questions(text: str) -> None:
    assert mask_pii(text) == text


def test_mask_user_ids() -> None:
    uid = "U" + "0123456789abcdef" * 2
    assert mask_user_id(uid) == "U0123…cdef"
    assert uid not in mask_ids_in(f"to={uid} failed")
    assert mask_user_id(None) == "-"
