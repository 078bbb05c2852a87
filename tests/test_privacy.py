"""Masking of personal details (`app.privacy`): a table of what must be masked and what must stay,
properties over long adversarial texts (Hypothesis), and `python -m app mask`."""

from __future__ import annotations

import re
import threading

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.cli import cli
from app.privacy import (
    ADDRESS,
    BIRTH_DATE,
    EMAIL,
    NUMBER,
    PHONE,
    POSTCODE,
    TAGS,
    mask_ids_in,
    mask_pii,
    mask_user_id,
)
from app.privacy_names import NAME, name_spans

MUST_MASK = [
    # phone numbers: every separator, look-alike hyphens, full-width digits, +81
    ("電話は06-6384-1231です", "6384", PHONE),
    ("携帯 090-1234-5678 まで", "1234-5678", PHONE),
    ("携帯09012345678", "09012345678", PHONE),
    ("ｔｅｌ０６－６３８４－１２３１", "６３８４", PHONE),
    ("０９０−１２３４−５６７８に電話ください", "５６７８", PHONE),  # U+2212
    ("(06)6384-1231", "6384", PHONE),
    ("（０６）６３８４ー１２３１", "６３８４", PHONE),
    ("090.1234.5678", "1234", PHONE),
    ("090 1234 5678", "5678", PHONE),
    ("+81 90-1234-5678", "1234", PHONE),
    ("+81-6-6384-1231", "6384", PHONE),
    ("+81(0)6-6384-1231", "6384", PHONE),
    ("06(6384)1231", "6384", PHONE),
    ("０６ー６３８４ー１２３１", "６３８４", PHONE),  # U+30FC
    ("06\u20106384\u20101231", "6384", PHONE),
    ("06\u20116384\u20111231", "6384", PHONE),
    ("06\u20126384\u20121231", "6384", PHONE),
    ("06\u20136384\u20131231", "6384", PHONE),
    ("06\u20146384\u20141231", "6384", PHONE),
    ("06\u20156384\u20151231", "6384", PHONE),
    ("０６－６３８４－１２３１", "６３８４", PHONE),  # U+FF0D
    ("フリーダイヤル0120-123-456", "123-456", PHONE),
    ("050-1234-5678にかけて", "1234", PHONE),
    ("電話 6384-1231", "6384-1231", PHONE),
    ("TEL:0663841231", "0663841231", PHONE),
    ("連絡先は080 1234 5678です", "1234", PHONE),
    # e-mail
    ("メール taro.suita@example.jp に", "taro.suita@example.jp", EMAIL),
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "ｔａｒｏ", EMAIL),
    ("連絡はyamada+city@mail.example.co.jpまで", "yamada+city", EMAIL),
    ("MAIL: a_b-c@sub.example.com", "a_b-c", EMAIL),
    # postcodes
    ("〒564-8550", "564-8550", POSTCODE),
    ("〒 5648550 大阪府", "5648550", POSTCODE),
    ("郵便番号は564-8550です", "564-8550", POSTCODE),
    ("〒５６４－８５５０", "５６４", POSTCODE),
    ("郵便番号 5648550", "5648550", POSTCODE),
    ("〒564ー8550", "8550", POSTCODE),
    # addresses, Arabic and kanji numerals
    ("住所は吹田市泉町1丁目3番40号です", "泉町1丁目", ADDRESS),
    ("大阪府吹田市千里山西2-5-1 に住んでいます", "千里山西2-5-1", ADDRESS),
    ("泉町一丁目三番四十号", "一丁目三番四十号", ADDRESS),
    ("千里山西1丁目", "千里山西1丁目", ADDRESS),
    ("住所は3-4-40です", "3-4-40", ADDRESS),
    ("岸部北5-20に住んでます", "5-20", ADDRESS),
    ("山田西4丁目1番", "4丁目", ADDRESS),
    ("123番地の4", "123番地", ADDRESS),
    ("垂水町3丁目28番33号", "28番33号", ADDRESS),
    ("吹田市千里山西１丁目２－３", "２－３", ADDRESS),
    ("朝日が丘町5番10号", "5番10号", ADDRESS),
    ("佐竹台三丁目五番", "三丁目", ADDRESS),
    ("藤白台2丁目3-15-201", "15-201", ADDRESS),
    # birth dates (marked, or in an old era)
    ("1985年4月1日生まれ", "1985年4月1日", BIRTH_DATE),
    ("生年月日 S60.4.1", "S60.4.1", BIRTH_DATE),
    ("昭和60年4月1日", "60年4月1日", BIRTH_DATE),
    ("生年月日は1985/04/01です", "1985/04/01", BIRTH_DATE),
    ("誕生日は4月1日です", "4月1日", BIRTH_DATE),
    ("平成2年3月4日生まれの息子", "平成2年3月4日", BIRTH_DATE),
    ("生年月日：昭和六十年四月一日", "六十年四月一日", BIRTH_DATE),
    ("H2.3.4生まれ", "H2.3.4", BIRTH_DATE),
    ("DOB 1990-01-02", "1990-01-02", BIRTH_DATE),
    ("大正15年1月1日", "15年1月1日", BIRTH_DATE),
    ("1985.4.1生", "1985.4.1", BIRTH_DATE),
    ("令和元年5月1日生まれ", "元年5月1日", BIRTH_DATE),
    ("生年月日 1985年4月1日", "1985年4月1日", BIRTH_DATE),
    # My Number, card numbers, long numbers
    ("マイナンバー 1234 5678 9012 です", "9012", NUMBER),
    ("番号123456789012", "123456789012", NUMBER),
    ("1234-5678-9012", "5678", NUMBER),
    ("カード番号は4111 1111 1111 1111です", "4111 1111", NUMBER),
    ("4111-1111-1111-1111", "1111-1111", NUMBER),
    ("4111111111111111", "4111111111111111", NUMBER),
    ("3782 822463 10005", "822463", NUMBER),
    ("口座 12345678901", "12345678901", NUMBER),
    # names
    ("山田太郎です", "山田太郎", NAME),
    ("田中さんに聞きました", "田中", NAME),
    ("鈴木花子様", "鈴木花子", NAME),
    ("佐藤と申します", "佐藤", NAME),
    ("山田さんの件で", "山田", NAME),  # a district's name, but an honorific follows
    ("担当の高橋一郎さん", "高橋一郎", NAME),
    ("母の名前は渡辺幸子です", "渡辺幸子", NAME),
    ("山田　太郎と申します", "山田", NAME),  # a district's name, but part of a full name
]

MUST_STAY = [
    "住民票をコンビニで取りたい",
    "2024年4月1日から",
    "令和6年4月1日から受付",
    "保育園は3歳から",
    "ごみの日は月曜日",
    "受付時間は9:00-17:00です",
    "手数料は300円です",
    "2023年度の予算",
    "令和元年度の実績",
    "千里山西の公園",
    "山田に住んでいます",  # district names that Sudachi also knows as surnames stay
    "岸部北の図書館",
    "南千里駅の近く",
    "健都のイベント",
    "高野台の保育園",
    "第3号被保険者",
    "3番窓口はどこ",
    "5号館の場所",
    "2024/4/1に引っ越しました",  # a date not marked as a birth date
    "12月28日から1月3日まで休み",
    "国民健康保険料 12,345円",
    "平成31年4月30日",
    "電話番号を変更したい",
    "住所変更の届出",
    "郵便番号を教えて",
    "生年月日を変更したい",
    "マイナなしでもコンビニ交付つかえる？",
    "けんしんの予約",
    "午前8時45分から午後5時30分まで",
    "第2・第4土曜日",
    "ごみ袋は10枚入り",
    "1万円の給付",
    "See page 3 of the website",
    "2024-04-01",
]
DIGIT_RUN = re.compile(r"[0-9０-９]{10,}")


def digit_run(text: str) -> bool:
    return DIGIT_RUN.search(text) is not None


def test_the_tables_are_large_enough() -> None:
    assert len(MUST_MASK) >= 60 and len(MUST_STAY) >= 20
    assert {tag for _, _, tag in MUST_MASK} == set(TAGS)


@pytest.mark.parametrize(("text", "gone", "tag"), MUST_MASK)
def test_mask_pii_removes_personal_details(text: str, gone: str, tag: str) -> None:
    masked = mask_pii(text)
    assert gone not in masked
    assert tag in masked
    assert mask_pii(masked) == masked


@pytest.mark.parametrize("text", MUST_STAY)
def test_mask_pii_keeps_ordinary_questions(text: str) -> None:
    assert mask_pii(text) == text


def test_the_text_around_a_masked_detail_is_kept_as_written() -> None:
    text = "ＡＢＣ　０９０-１２３４-５６７８　山田太郎さん、taro@example.jp。〒564-8550"
    assert mask_pii(text) == "ＡＢＣ　[電話]　[氏名]さん、[メール]。[郵便番号]"


def test_town_but_not_city_is_masked_with_the_block_numbers() -> None:
    assert mask_pii("大阪府吹田市千里山西2-5-1") == "大阪府吹田市[住所]"


@pytest.mark.parametrize("tag", TAGS)
def test_tags_are_left_alone(tag: str) -> None:
    assert mask_pii(tag) == tag
    assert name_spans(tag[1:-1]) == []


def test_masking_is_the_same_from_many_threads() -> None:
    texts = [text for text, _, _ in MUST_MASK] + MUST_STAY
    expected = [mask_pii(text) for text in texts]
    results: dict[int, list[str]] = {}

    def work(k: int) -> None:
        results[k] = [mask_pii(text) for text in texts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(4), expected)


# Fragments the scanners care about: digits (also full-width), kanji numerals, block words, every
# hyphen look-alike, separators, e-mail and postcode signs, context words, names, tags' brackets.
FRAGMENTS = [
    *"0123456789", "０", "９", *"〇一二三十百千元", "丁目", "番地", "番", "号", "の",
    *"-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d", *". ()+/:@", "a", "x", "S", "H",
    "〒", "年", "月", "日", "生まれ", "生年月日", "誕生日", "電話", "TEL", "郵便番号", "山田", "太郎",
    "田中", "さん", "様", "市", "町", "吹田市", "千里山西", "県", "[", "]", "\n", "。", "、",
    "example.com", "06", "090", "1234", "5678", "564", "8550", "1985", "昭和", "令和", "@a.b",
]  # fmt: skip
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=120).map("".join)
# a unit of fragments repeated up to 20,000 characters, with one fragment dropped in somewhere
long_texts = st.builds(
    lambda unit, size, extra, at: (lambda body: body[:at] + extra + body[at:])((unit * size)[:size]),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map("".join),
    st.integers(min_value=1_000, max_value=20_000),
    st.sampled_from(FRAGMENTS),
    st.integers(min_value=0, max_value=20_000),
)
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(SLOW, max_examples=300)
@given(texts)
def test_masking_is_idempotent_and_leaves_no_long_digit_run(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once
    assert not digit_run(once)
    assert sum(c.isdigit() for c in once) <= sum(c.isdigit() for c in text)


@settings(SLOW, max_examples=25)
@given(long_texts)
@example("県市" * 10_000)  # quadratic before issue 12
@example("吹田市" + "あ" * 19_990 + "1-")
@example("1-" * 10_000)
@example("090\u20101234\u2010" * 2_223)
@example("一二三丁目" * 4_000)
@example("a." * 9_999 + "@x")
@example("山田太郎さん、" * 2_858)
def test_long_adversarial_texts_are_masked(text: str) -> None:
    once = mask_pii(text)
    assert isinstance(once, str) and (once or not text)
    assert mask_pii(once) == once
    assert not digit_run(once)


@settings(SLOW, max_examples=200)
@given(st.text(alphabet=st.characters(codec="ascii", exclude_characters="0123456789@"), max_size=300))
def test_text_without_digits_or_japanese_is_unchanged(text: str) -> None:
    assert mask_pii(text) == text


def test_mask_command_masks_each_line_of_stdin() -> None:
    stdin = "電話は090-1234-5678です\n住民票をコンビニで取りたい\r\n山田太郎 taro@example.jp\n"
    result = CliRunner().invoke(cli, ["mask"], input=stdin.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode("utf-8").splitlines() == [
        "電話は[電話]です",
        "住民票をコンビニで取りたい",
        "[氏名] [メール]",
    ]


def test_mask_user_ids() -> None:
    uid = "U" + "0123456789abcdef" * 2
    assert mask_user_id(uid) == "U0123…cdef"
    assert uid not in mask_ids_in(f"to={uid} failed")
    assert mask_user_id(None) == "-"
