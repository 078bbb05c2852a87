"""FAQ answer rates for questions in the languages the corpus has no entries in (Chinese, Korean,
Vietnamese, Portuguese: language detection + the glossary bridge of `faq.question_language`) and in
easy Japanese (the Japanese matcher), on the small labelled set `bench/data/multilingual_questions.jsonl`
(12 questions per language: 10 the FAQ covers, 2 it does not).

Per language: answered with the right entry, answered wrongly, suggested with the right entry among the
three, suggested without it, fallback (the contact hint in the resident's language), and for the two
out-of-scope questions whether they were (rightly) not answered. "Before" is the same questions with the
service's old language rule (`faq.normalize.detect_lang`: Latin letters → the English matcher, anything
else → the Japanese one, as typed, no bridge), measured in the same run.

    .venv/bin/python bench/faq_multilingual.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from unittest import mock

from faq import service
from faq.normalize import detect_lang
from faq.service import FaqIndexService

DATA = Path(__file__).resolve().parent / "data" / "multilingual_questions.jsonl"


def outcomes(faq: FaqIndexService, rows: list[dict[str, str | None]]) -> dict[str, Counter[str]]:
    by_lang: dict[str, Counter[str]] = {}
    for row in rows:
        lang, expect = str(row["lang"]), row["expect"]
        decision = faq.ask(str(row["q"]), lang=lang)
        offered = [s.entry_id for s in decision.suggestions[:3]]
        if expect is None:
            kind = "oos answered" if decision.decision == "answer" else "oos not answered"
        elif decision.decision == "answer":
            kind = "right" if decision.entry_id == expect else "wrong"
        elif decision.decision == "suggest":
            kind = "suggest right" if expect in offered else "suggest wrong"
        else:
            kind = "fallback"
        by_lang.setdefault(lang, Counter())[kind] += 1
    return by_lang


def table(title: str, by_lang: dict[str, Counter[str]]) -> None:
    print(f"\n{title}\n")
    print("| language | answered right | answered wrong | right entry suggested | other suggestions | "
          "fallback | out of scope not answered |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for lang, c in by_lang.items():
        cells = [c["right"], c["wrong"], c["suggest right"], c["suggest wrong"], c["fallback"]]
        print(f"| {lang} | " + " | ".join(f"{n}/10" for n in cells) + f" | {c['oos not answered']}/2 |")


def main() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    faq = FaqIndexService.from_file()
    with mock.patch.object(service, "detect", detect_lang):
        table("Before (old language rule, no bridge):", outcomes(faq, rows))
    table("After (detection + glossary bridge):", outcomes(faq, rows))


if __name__ == "__main__":
    main()
