"""The service's answer / suggest / fallback decisions on a real city FAQ: the localgovFAQ dev split.

The same decision as `python -m faq ask --json --corpus FILE` (a `FaqIndexService` over the corpus,
no database). The 150 dev questions are split in fixed halves by a hash of their id
(`faq.decision_quality.localgov_half`): tune on `tune`, measure `held-out` once. Reads ../shared.

    .venv/bin/python bench/faq_decide_localgov.py               # the tuning half
    .venv/bin/python bench/faq_decide_localgov.py --held-out    # the held-out half (once)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faq.corpus import parse_file
from faq.decision_quality import localgov_half
from faq.retrieval_metrics import read_qrels, read_queries
from faq.service import FaqIndexService

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f} % ({n}/{d})" if d else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--held-out", action="store_true", help="measure the held-out half")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    half = "held-out" if args.held_out else "tune"
    service = FaqIndexService(parse_file(DATA / "corpus.jsonl"))
    qrels = read_qrels(DATA / "dev_qrels.json")
    queries = [q for q in read_queries(DATA / "dev_queries.jsonl") if localgov_half(q.id) == half]
    answered = right = suggested = hits = fallback = 0
    for q in queries:
        relevant = {e for e, grade in qrels.get(q.id, {}).items() if grade >= 1}
        d = service.ask(q.text)
        if d.decision == "answer":
            answered += 1
            right += d.entry_id in relevant
        elif d.decision == "suggest":
            suggested += 1
            hits += any(s.entry_id in relevant for s in d.suggestions[:3])
        else:
            fallback += 1
    n = len(queries)
    print("| half | questions | answered | answer precision | suggest | right entry among 3 | fallback |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {half} | {n} | {pct(answered, n)} | {pct(right, answered)} | {pct(suggested, n)}"
        f" | {pct(hits, suggested)} | {pct(fallback, n)} |"
    )


if __name__ == "__main__":
    main()
