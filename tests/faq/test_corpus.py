from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from faq.corpus import CorpusError, Entry, dump_jsonl, parse_bytes, parse_file, parse_objects
from faq.labels import LABEL_MAX, derive_label

PHONE = re.compile(r"\d{2,4}-\d{2,4}-\d{3,4}")
HEADER = "id,question,answer,alternatives,department,lang\n"


def errors_of(data: bytes, name: str) -> list[str]:
    with pytest.raises(CorpusError) as exc:
        parse_bytes(data, name)
    return [str(e) for e in exc.value.errors]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        # CSV: a required column missing from the header
        ("a.csv", "id,question\nx,質問\n".encode(), ["a.csv:1:3: missing column 'answer' in the header"]),
        # CSV: a row with fewer values than columns
        (
            "b.csv",
            (HEADER + "x,質問\n").encode(),
            ["b.csv:2:3: missing value for column 'answer' (2 of 6 columns)"],
        ),
        # CSV: empty answer
        ("c.csv", (HEADER + "x,質問,,,,ja\n").encode(), ["c.csv:2:3: answer: must not be empty"]),
        # CSV: duplicate id (same language)
        (
            "d.csv",
            (HEADER + "x,質問,回答,,,ja\nx,別の質問,回答,,,ja\n").encode(),
            ["d.csv:3:1: duplicate id 'x' (ja), first on line 2"],
        ),
        # CSV: bad byte that is neither UTF-8 nor cp932
        (
            "e.csv",
            HEADER.encode() + b"x,\x81,answer,,,ja\n",
            ["e.csv:2:3: encoding: byte 0x81 is not utf-8 or cp932"],
        ),
        # JSONL: invalid JSON, with the column of the error
        ("f.jsonl", b'{"id": "x", "question": }\n', ["f.jsonl:1:25: invalid JSON: Expecting value"]),
        # JSONL: missing key and unknown language
        (
            "g.jsonl",
            json.dumps({"id": "x", "question": "q", "lang": "fr"}).encode(),
            [
                "g.jsonl:1:30: lang: must be one of ja, ja-easy, en, zh-Hans, ko, vi, pt",
                "g.jsonl:1:1: answer: is missing",
            ],
        ),
        # JSONL: must be UTF-8 (Shift_JIS is for CSV only)
        ("h.jsonl", '{"id": "x", "question": "質問", "answer": "回答"}'.encode("cp932"), None),
        # JSONL: bad id, bad URL, unknown column
        (
            "i.jsonl",
            json.dumps({"id": "a b", "question": "q", "answer": "a", "url": "ftp://x", "extra": 1}).encode(),
            [
                "i.jsonl:1:65: unknown column 'extra'",
                "i.jsonl:1:2: id: use letters, digits, '.', '_' or '-'",
                "i.jsonl:1:47: url: must start with http:// or https://",
            ],
        ),
    ],
)
def test_bad_rows_are_reported_with_file_line_and_column(
    name: str, data: bytes, expected: list[str] | None
) -> None:
    errors = errors_of(data, name)
    if expected is None:
        assert errors[0].startswith(f"{name}:1:") and "encoding" in errors[0]
    else:
        assert errors == expected


def test_every_error_of_a_file_is_reported_and_nothing_returned() -> None:
    data = (HEADER + "ok,質問,回答,,,ja\nbad,,回答,,,ja\nok,重複,回答,,,ja\n").encode()
    errors = errors_of(data, "mixed.csv")
    assert errors == [
        "mixed.csv:3:2: question: must not be empty",
        "mixed.csv:4:1: duplicate id 'ok' (ja), first on line 2",
    ]


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis", "utf-8", "utf-8-sig"])
def test_csv_in_shift_jis_and_utf8(encoding: str) -> None:
    text = (
        HEADER
        + 'juminhyo,住民票はコンビニで取れますか,"はい、取れます。",コンビニ交付|住民票の写し,市民課,ja\n'
    )
    (entry,) = parse_bytes(text.encode(encoding), "faq.csv")
    assert (entry.question, entry.answer) == ("住民票はコンビニで取れますか", "はい、取れます。")
    assert entry.alternatives == ("コンビニ交付", "住民票の写し") and entry.department == "市民課"


def test_csv_fields_and_multiline_answer() -> None:
    text = HEADER + 'conbini,コンビニ交付,"1行目\n2行目",a|b|a,市民課,en\nnext,質問,回答,,,ja\n'
    first, second = parse_bytes(text.encode(), "faq.csv")
    assert first.answer == "1行目\n2行目" and first.alternatives == ("a", "b") and first.lang == "en"
    assert first.department == "市民課" and second.department is None and second.alternatives == ()


def test_same_id_in_two_languages_is_allowed() -> None:
    entries = parse_objects(
        [
            {"id": "x", "question": "質問", "answer": "回答"},
            {"id": "x", "question": "Q", "answer": "A", "lang": "en"},
        ],
        "body",
    )
    assert [(e.id, e.lang) for e in entries] == [("x", "ja"), ("x", "en")]


def test_jsonl_roundtrip(tmp_path: Path) -> None:
    entries = [
        Entry(id="a", question="質問", answer="回答", alternatives=("別",), department="市民課", label="質問")
    ]
    path = tmp_path / "out.jsonl"
    path.write_text(dump_jsonl(entries), encoding="utf-8")
    assert parse_file(path) == entries


def test_shipped_corpus_is_valid_and_complete(suita: object) -> None:
    from faq.service import SEED_CORPUS

    entries = parse_file(SEED_CORPUS)
    ja = {e.id for e in entries if e.lang == "ja"}
    en = {e.id for e in entries if e.lang == "en"}
    assert len(ja) >= 60 and en == ja  # every shipped entry has English
    assert all(e.source.startswith("第4期情報化推進計画") for e in entries)
    # Each answer that has a department names it; no phone numbers or URLs are invented.
    for e in entries:
        if e.department and e.lang == "ja":
            assert "担当" in e.answer, e.id
        assert e.url is None and "http" not in e.answer and not PHONE.search(e.answer), e.id


def test_shipped_entries_have_written_labels_that_fit_line() -> None:
    import json

    from faq.service import SEED_CORPUS

    for line in SEED_CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert 0 < len(row.get("label", "")) <= LABEL_MAX, row["id"]  # written by hand, not derived


@pytest.mark.parametrize(
    ("question", "lang", "label"),
    [
        ("住民票をコンビニで発行できますか？", "ja", "住民票をコンビニで発行"),
        ("印鑑登録証明書はコンビニで取れますか？", "ja", "印鑑登録証明書・コンビニ"),  # verb stem: key nouns
        ("市報すいたについて知りたい", "ja", "市報すいた"),
        ("子育ての情報サイトはありますか？", "ja", "子育ての情報サイト"),
        ("Where can I apply for a passport?", "en", "Apply for a passport"),
        ("Can I pay taxes at a convenience store?", "en", "Pay taxes"),
    ],
)
def test_derived_labels(question: str, lang: str, label: str) -> None:
    assert derive_label(question, lang) == label


def test_label_is_derived_on_import_and_checked_when_given() -> None:
    (entry,) = parse_objects([{"id": "a", "question": "市報すいたについて知りたい", "answer": "x"}], "b")
    assert entry.label == "市報すいた"
    with pytest.raises(CorpusError, match="label: longer than 20"):
        parse_objects([{"id": "a", "question": "q", "answer": "x", "label": "あ" * 21}], "b")
