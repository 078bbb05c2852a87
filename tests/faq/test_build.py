from __future__ import annotations

import pytest

from faq.plan_extract import drafts, extract, tidy
from tests.faq.conftest import shared_file

# A small plan in the layout of the city's PDF-to-text conversion (labels, tabs, split words).
PLAN = """\
1. アクションプランについて
(5)各アクションプラン

\tNo.\t1
\t基本方針\t市民のためのサー\t·ビスデザイン
\t取組\t手続\t手続
アク\tションプラン\t手続の電子化
\t概要\t申請手続をインターネットで行えるように します。
\t目的\t窓口の待ち時間を 減らします。
成\t内容\t利用できる手続を増やします。
果目標(アウ\t評価指標 (定量的)\t電子化率100%を目標とします。
ウトカ\t年度\t令和元年度
\t主管部門\t各室課
\t関係部門\t情報政策室

\tNo.\t2\t1
\t取組\t防災・防犯
アク\tアクションプラン 防犯カメラの更新
\t目的\t犯罪を減らします。
\t主管部門\t危機管理室

2. <補足説明>アクションプランに関わる全体的な取組
\tNo.\t99
"""


def test_extracts_each_plan_with_its_fields() -> None:
    first, second = extract(PLAN)
    assert (first.number, first.name, first.policy, first.theme) == (
        1,
        "手続の電子化",
        "市民のためのサービスデザイン",
        "手続",
    )
    assert first.summary == "申請手続をインターネットで行えるようにします。"
    assert first.purpose == "窓口の待ち時間を減らします。"
    assert first.targets == "電子化率100%を目標とします。"
    assert (first.departments, first.related) == ("各室課", "情報政策室")
    # a missing 概要 label and policy line: the policy follows from the theme
    assert (second.number, second.name, second.policy, second.departments) == (
        21,
        "防犯カメラの更新",
        "市民を守るICT",
        "危機管理室",
    )


def test_drafts_are_valid_entries() -> None:
    entries = drafts(extract(PLAN))
    assert [e.id for e in entries] == ["plan-01", "plan-01-targets", "plan-21"]
    assert entries[0].answer.endswith("(担当: 各室課)") and entries[0].source.endswith("No.1")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("キャッシュ レス\t決済", "キャッシュレス決済"), ("Web 施設", "Web 施設"), ("a · b", "a b")],
)
def test_tidy(raw: str, clean: str) -> None:
    assert tidy(raw) == clean


def test_the_city_plan() -> None:
    text = shared_file("seed", "000_c7170861a566d0e6.txt").read_text(encoding="utf-8")
    plans = {p.number: p for p in extract(text)}
    assert sorted(plans) == [1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22]
    assert (
        plans[2].name == "コンビニエンスストア等での証明交付の拡充"
        and plans[2].departments == "税制課、市民課"
    )
    assert "ドローン" in plans[14].summary and plans[14].related == "危機管理室"
    assert plans[11].departments == "保育幼稚園室" and "窓口" in plans[11].summary
    assert all(p.name and p.summary and p.policy for p in plans.values())
