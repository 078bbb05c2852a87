"""The staff FAQ page in headless Chromium against the live app: try questions, review unanswered ones,
edit, create and delete entries (the bot answers with the change at once), import a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fakes.fake_server import ThreadedServer
from faq.faq_tables import UnansweredQuestion
from tests.conftest import browser_sign_in
from tests.faq.conftest import record_downvote_and_pick
from tests.page_checks import wait_until

pytestmark = pytest.mark.browser

QUESTION = "コンビニで住民票取れる？"


def try_question(page: Any, text: str) -> str:
    page.get_by_label("試す質問 / Question to try").fill(text)
    page.get_by_role("button", name="試す / Try", exact=True).click()
    page.locator("#try-result .decision").wait_for()
    text_: str = page.locator("#try-result").inner_text()
    return text_


def unanswered(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(UnansweredQuestion)) or 0)


def test_try_review_and_edit_what_the_bot_answers(
    page: Any, live_server: ThreadedServer, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    # A resident's question the FAQ could not answer, with a phone number (masked when stored).
    r = httpx.get(f"{live_server.url}/api/v1/faq/search", params={"q": "粗大ごみの出し方 電話 06-1234-5678"})
    assert r.json()["decision"] == "fallback"
    browser_sign_in(page, live_server, "/faq", staff_user)
    page.locator("#unanswered tbody tr").first.wait_for()
    (masked,) = page.locator("#unanswered tbody tr td:nth-child(2)").all_inner_texts()
    assert "06-1234-5678" not in masked and "粗大ごみ" in masked

    result = try_question(page, QUESTION)
    assert "回答します / Answers" in result and "コンビニ" in result
    assert unanswered(sessions) == 1  # trying a question is not recorded
    entry_id = result.split("ID: ")[1].split("\n")[0].strip()

    # Edit the answer; the bot answers with the new text at once.
    page.get_by_label("絞り込み / Filter").fill(entry_id)
    page.locator(f'#entries tr[data-entry="ja/{entry_id}"]').get_by_role("button", name="編集 / Edit").click()
    wait_until(page, "id => document.getElementById('e-id').value === id", entry_id)
    answer = page.get_by_label("回答 / Answer")
    assert "マイナンバーカード" in answer.input_value()
    answer.fill(answer.input_value() + "\n(テスト追記: 年末年始は休止します)")
    page.get_by_role("button", name="保存 / Save").click()
    page.get_by_text("保存しました", exact=False).wait_for()
    assert "年末年始は休止します" in try_question(page, QUESTION)

    # A new entry from the unanswered question, answered afterwards; then deleted again.
    page.get_by_role("button", name="項目を作る / New entry").click()
    assert "粗大ごみ" in page.get_by_label("質問 / Question", exact=True).input_value()
    page.locator("#e-id").fill("sodai-gomi")
    page.get_by_label("質問 / Question", exact=True).fill("粗大ごみの出し方を知りたい")
    page.get_by_label("回答 / Answer").fill("粗大ごみは事前の申し込みが必要です。")
    page.get_by_role("button", name="保存 / Save").click()
    problems = page.locator("#editor-problems")
    problems.get_by_text("保存しました", exact=False).wait_for()
    assert "粗大ごみは事前の申し込みが必要です" in try_question(page, "粗大ごみの出し方を知りたい")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="削除 / Delete").click()
    page.locator("#editor-section").wait_for(state="hidden")
    page.locator('#entries tr[data-entry="ja/sodai-gomi"]').wait_for(state="detached")
    assert "粗大ごみは事前の申し込みが必要です" not in try_question(page, "粗大ごみの出し方を知りたい")


def test_an_import_with_a_bad_row_imports_nothing_and_says_where(
    page: Any, live_server: ThreadedServer, staff_user: str, tmp_path: Path
) -> None:
    browser_sign_in(page, live_server, "/faq", staff_user)
    page.locator("#entries-count", has_text="件").wait_for()
    total = page.locator("#entries-count").inner_text()
    bad = tmp_path / "faq.csv"
    bad.write_bytes(
        "id,question,answer\nnew-1,図書館の本を予約したい,電子図書館で予約できます。\nnew-2,空の回答,\n".encode(
            "cp932"
        )
    )
    page.get_by_label("ファイル / File").set_input_files(str(bad))
    page.get_by_role("button", name="取り込む / Import").click()
    page.get_by_text("何も取り込んでいません / Nothing was imported").wait_for()
    assert "faq.csv:3:" in page.locator("#import-result").inner_text()
    assert page.locator("#entries-count").inner_text() == total

    good = tmp_path / "good.csv"
    good.write_bytes(
        "id,question,answer\nnew-1,図書館の本を予約したい,電子図書館で予約できます。\n".encode("cp932")
    )
    page.get_by_label("ファイル / File").set_input_files(str(good))
    page.get_by_label("文字コード / Encoding").select_option("cp932")
    page.get_by_role("button", name="取り込む / Import").click()
    page.get_by_text("1 件を取り込みました", exact=False).wait_for()
    page.get_by_label("絞り込み / Filter").fill("new-1")
    page.locator('#entries tr[data-entry="ja/new-1"]').wait_for()
    assert page.locator("#entries tbody tr").count() == 1


GOMI = ["粗大ごみの出し方", "粗大ごみを捨てたい", "粗大ゴミの出し方を教えて"]  # the FAQ has no entry on it


def test_a_group_of_unanswered_questions_becomes_an_entry_under_a_strict_csp(
    page: Any, live_server: ThreadedServer, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for q in [*GOMI, GOMI[0], "火星の天気"]:
        assert (
            httpx.get(f"{live_server.url}/api/v1/faq/search", params={"q": q}).json()["decision"]
            == "fallback"
        )
    record_downvote_and_pick(sessions)

    browser_sign_in(page, live_server, "/faq", staff_user)
    csp = page.evaluate("async () => (await fetch('/faq')).headers.get('content-security-policy')")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    rows = page.locator("#groups tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    first = rows.first.inner_text()
    assert first.startswith("4") and all(q in first for q in GOMI)

    rows.first.get_by_role("button", name="新しい項目にする / New entry from group").click()
    question = page.get_by_label("質問 / Question", exact=True)
    assert question.input_value() == GOMI[0]
    assert set(page.get_by_label("言い換え", exact=False).input_value().splitlines()) == set(GOMI)
    page.locator("#e-id").fill("sodai-gomi")
    question.fill("粗大ごみはどう出せばいいですか？")
    page.get_by_label("回答 / Answer").fill("粗大ごみは事前の申し込みが必要です。")
    page.get_by_role("button", name="保存 / Save").click()
    page.locator("#editor-problems").get_by_text("保存しました", exact=False).wait_for()
    wait_until(page, "() => document.querySelectorAll('#groups tbody tr').length === 1")
    assert "火星の天気" in page.locator("#groups tbody").inner_text()
    for q in GOMI:  # the bot answers the group's questions with the new entry at once
        d = httpx.get(f"{live_server.url}/api/v1/faq/search", params={"q": q}).json()
        assert d["decision"] == "answer" and d["entry_id"] == "sodai-gomi", (q, d)
    assert "粗大ごみは事前の申し込みが必要です" in try_question(page, GOMI[1])

    feedback = page.locator("#feedback tbody tr").first
    assert "passport" in feedback.inner_text() and "パスポートどこ" in feedback.inner_text()
    pick = page.locator("#picks tbody tr").first
    assert "本をスマホで読む" in pick.inner_text()
    pick.get_by_role("button", name="言い換えに追加 / Add as phrasing").click()
    page.locator("#picks tbody tr").first.get_by_text("追加済み / Added").wait_for()

    page.locator("#report tbody tr").first.wait_for()
    report = page.locator("#report").inner_text()
    assert "質問数 / Questions" in report and "未回答 / Unanswered: 火星の天気" in report
    assert page.locator("#report-csv").get_attribute("href").startswith("/api/v1/faq/report.csv?month=")
    assert not [p for p in problems if "Content Security Policy" in p or "Error" in p], problems
