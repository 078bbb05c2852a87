"""Answer / suggest / fallback quality of the shipped Suita FAQ on residents' everyday phrasing.

Questions: `bench/data/faq_paraphrases.jsonl` (our own text, labelled with the entries that answer
each one, or out of scope), split deterministically into a tuning and a held-out half
(`faq.decision_quality.split`). Prints one Markdown table; `--failures` lists the tuning half's misses
(never the held-out half's: that half is only measured).

    .venv/bin/python bench/faq_paraphrase.py
    .venv/bin/python bench/faq_paraphrase.py --failures
"""

from __future__ import annotations

import argparse
from pathlib import Path

from faq.decision_quality import DecisionReport, Outcome, evaluate, load, report, split
from faq.service import FaqIndexService

ROOT = Path(__file__).resolve().parent.parent

HEADER = (
    "| split | questions | answered | answer precision | suggest | suggest has right entry"
    " | fallback | oos answered | oos suggest |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f} % ({n}/{d})" if d else "–"


def row(name: str, r: DecisionReport) -> str:
    return (
        f"| {name} | {r.in_scope} + {r.oos} oos | {pct(r.answered, r.in_scope)}"
        f" | {pct(r.correct, r.answered)}"
        f" | {pct(r.suggested, r.in_scope)} | {pct(r.suggest_hits, r.suggested)}"
        f" | {pct(r.fallback, r.in_scope)} | {pct(r.oos_answered, r.oos)} | {pct(r.oos_suggested, r.oos)} |"
    )


def failures(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        d = o.decision
        ok = o.correct_answer if o.row.in_scope else d.decision != "answer"
        if ok and (d.decision == "answer" or not o.row.in_scope):
            continue
        got = d.entry_id if d.decision == "answer" else [s.entry_id for s in d.suggestions]
        print(f"{o.row.id} {d.decision:<8} {d.score:.2f} {o.row.text}  want={list(o.row.answers)} got={got}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--failures", action="store_true", help="list the tuning half's misses")
    args = parser.parse_args()
    service = FaqIndexService.from_file()
    halves = split(load())
    print(HEADER)
    for name, rows in halves.items():
        outcomes = evaluate(service.ask, rows)
        print(row(name, report(outcomes)))
        for lang in ("ja", "en"):
            part = [o for o in outcomes if o.row.lang == lang]
            print(row(f"{name}, {lang}", report(part)))
        if args.failures and name == "tune":
            failures(outcomes)


if __name__ == "__main__":
    main()
