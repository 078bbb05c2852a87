"""`suita faq` (also `python -m faq`), in process: the exact JSON shapes other tools rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli_runner import suita

ASK_KEYS = {"decision", "answer", "entry_id", "score", "suggestions"}


def faq(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Result:
    return suita("faq", *args, input=stdin, env=env)


def check_ask_shape(data: dict[str, object]) -> None:
    assert set(data) == ASK_KEYS
    assert data["decision"] in ("answer", "suggest", "fallback", "small_talk")
    assert isinstance(data["score"], float)
    assert data["answer"] is None or isinstance(data["answer"], str)
    assert data["entry_id"] is None or isinstance(data["entry_id"], str)
    suggestions = data["suggestions"]
    assert isinstance(suggestions, list)
    for s in suggestions:
        assert set(s) == {"entry_id", "question", "score"} and isinstance(s["score"], float)


def test_ask_json() -> None:
    out = faq("ask", "電子書籍を借りたい", "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    check_ask_shape(data)
    assert data["decision"] == "answer" and data["entry_id"] == "e-library"


def test_ask_reads_stdin_one_json_line_per_question_in_order() -> None:
    out = faq(
        "ask", stdin="電子書籍を借りたい\n\n今日の夕飯なにがいい？\nHow do I follow the city on LINE?\n"
    )
    assert out.exit_code == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    for row in rows:
        check_ask_shape(row)
    assert [r["decision"] for r in rows] == ["answer", "fallback", "fallback", "answer"]
    assert rows[3]["entry_id"] == "official-line"


def test_ask_decides_against_any_corpus_without_a_database(tmp_path: Path) -> None:
    corpus = tmp_path / "city.csv"
    corpus.write_bytes(
        "id,question,answer\n"
        "gomi,粗大ごみの出し方を知りたい,はい。粗大ごみは申込制です。\n"
        "inkan,印鑑登録証明書はコンビニで取れますか,はい。取れます。\n".encode("cp932")
    )
    out = faq(
        "ask", "--json", "--corpus", str(corpus), stdin="粗大ごみの出し方\n印鑑登録したい\nこんにちは\n"
    )
    assert out.exit_code == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    for row in rows:
        check_ask_shape(row)
    assert (rows[0]["decision"], rows[0]["entry_id"]) == ("answer", "gomi")
    assert rows[0]["answer"] == "粗大ごみは申込制です。"  # not a yes/no question: no 「はい。」
    assert rows[1]["decision"] != "answer"  # registering a seal is not getting its certificate
    assert rows[2]["decision"] == "small_talk"


def test_ask_says_when_it_truncates() -> None:
    out = faq("ask", "あ" * 10_000, "--json")
    assert out.exit_code == 0 and "cut to 400 characters" in out.stderr
    assert json.loads(out.stdout)["decision"] == "fallback"


def test_rank_on_any_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    rows = [
        {"id": "1", "question": "ごみの出し方", "answer": "燃えるごみは週2回です"},
        {"id": "2", "question": "図書館の開館時間", "answer": "午前10時から"},
        {"id": "3", "question": "粗大ごみの申し込み", "answer": "電話で申し込みます"},
    ]
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    lines = [
        {"id": "q1", "text": "粗大ごみを申し込みたい"},
        {"id": 7, "text": "図書館"},
        {"id": "q3", "text": "😀"},
    ]
    queries = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in lines)
    out = faq("rank", "--corpus", str(corpus), "--k", "2", stdin=queries)
    assert out.exit_code == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [set(r) for r in results] == [{"id", "ranked", "scores"}] * 3
    assert results[0]["id"] == "q1" and results[0]["ranked"][0] == "3" and len(results[0]["ranked"]) == 2
    assert results[1] == {"id": 7, "ranked": ["2"], "scores": results[1]["scores"]}
    assert results[2] == {"id": "q3", "ranked": [], "scores": []}
    assert results[0]["scores"] == sorted(results[0]["scores"], reverse=True)


def test_rank_reports_bad_query_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "1", "question": "q", "answer": "a"}\n', encoding="utf-8")
    out = faq("rank", "--corpus", str(corpus), stdin='{"text": "no id"}\nnot json\n')
    assert out.exit_code == 1
    assert [json.loads(line)["error"].startswith("bad query line") for line in out.stdout.splitlines()] == [
        True,
        True,
    ]


def test_bench_prints_every_metric(tmp_path: Path) -> None:
    corpus, queries, qrels = tmp_path / "c.jsonl", tmp_path / "q.jsonl", tmp_path / "r.json"
    corpus.write_text(
        '{"id": "1", "question": "粗大ごみの申し込み", "answer": "電話で"}\n'
        '{"id": "2", "question": "図書館の開館時間", "answer": "10時"}\n',
        encoding="utf-8",
    )
    queries.write_text(
        '{"id": "a", "text": "粗大ごみ"}\n{"id": "b", "text": "図書館は何時から"}\n', encoding="utf-8"
    )
    qrels.write_text('{"a": {"1": 2}, "b": {"1": 1}}', encoding="utf-8")
    out = faq("bench", "--corpus", str(corpus), "--queries", str(queries), "--qrels", str(qrels), "--json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("SR@1", "SR@5", "MRR", "P@5", "median_ms", "p95_ms", "build_s", "index_mb", "peak_rss_mb"):
        assert key in result
    assert (result["SR@1"], result["SR@5"], result["MRR"], result["queries"]) == (0.5, 0.5, 0.5, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,question,answer\nx,質問,\n", "bad.csv:2:3: answer: must not be empty"),
        ("id,question\nx,質問\n", "bad.csv:1:3: missing column 'answer'"),
    ],
)
def test_import_dry_run_reports_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("cp932"))
    out = faq("import", str(path), "--dry-run")
    assert out.exit_code == 1 and message in out.stderr and "nothing imported" in out.stderr


def test_build_from_a_plan(tmp_path: Path) -> None:
    from tests.faq.test_build import PLAN

    plan = tmp_path / "plan.txt"
    plan.write_text(PLAN, encoding="utf-8")
    out = faq("build", str(plan))
    assert out.exit_code == 0 and "2 action plans: 1, 21" in out.stderr
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == [
        "plan-01",
        "plan-01-targets",
        "plan-21",
    ]
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here", encoding="utf-8")
    assert faq("build", str(empty)).exit_code == 1


def test_import_and_export_through_the_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'faq.db'}", "APP_ENV": "test"}
    source = tmp_path / "new.csv"
    source.write_bytes("id,question,answer\nsodai,粗大ごみの出し方,申し込み制です\n".encode("cp932"))
    not_migrated = faq("import", str(source), env=env)
    assert not_migrated.exit_code == 1 and "python -m app migrate" in not_migrated.stderr
    assert suita("migrate", env=env).exit_code == 0
    assert faq("import", str(source), env=env).stdout.strip() == f"imported 1 entries from {source}"
    exported = faq("export", env=env)
    assert [json.loads(line)["id"] for line in exported.stdout.splitlines()] == ["sodai"]
    assert faq("import", str(source), "--encoding", "klingon", env=env).exit_code == 1
