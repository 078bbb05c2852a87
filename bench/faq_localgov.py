"""The FAQ matcher against baselines on the localgovFAQ dev split, all measured in the same run.

Rows: rapidfuzz WRatio alone (the README's 6 % baseline), plain BM25 over question+answer with the
same tokenizer, and the hybrid matcher (`python -m faq bench` measures the same). Reads ../shared.

    .venv/bin/python bench/faq_localgov.py                   # the whole dev split
    .venv/bin/python bench/faq_localgov.py --half tune       # only the tuning half (76 questions)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from faq.bm25 import BM25
from faq.corpus import parse_file
from faq.decision_quality import SPLITS, localgov_half
from faq.match import Matcher
from faq.normalize import normalize
from faq.retrieval_metrics import read_qrels, read_queries, run
from faq.tokenize import terms

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--half", choices=SPLITS, help="only this half of the dev questions")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    entries = parse_file(DATA / "corpus.jsonl")
    ids = np.array([e.id for e in entries])
    queries, qrels = read_queries(DATA / "dev_queries.jsonl"), read_qrels(DATA / "dev_qrels.json")
    if args.half:
        queries = [q for q in queries if localgov_half(q.id) == args.half]
    questions = [normalize(e.question) for e in entries]
    plain = BM25([terms(e.question + " " + e.answer) for e in entries])
    hybrid = Matcher(entries)

    def top(scores: np.ndarray) -> list[str]:
        order = np.lexsort((ids, -scores))[:10]
        return [str(ids[i]) for i in order if scores[i] > 0]

    systems = {
        "rapidfuzz WRatio (question)": lambda t: top(
            process.cdist([normalize(t)], questions, scorer=fuzz.WRatio)[0].astype(np.float32)
        ),
        "BM25 question+answer": lambda t: top(plain.scores(terms(t))),
        "hybrid (default install)": lambda t: [entries[c.index].id for c in hybrid.rank(t, 10).candidates],
    }
    print(f"{'system':<30} {'SR@1':>6} {'SR@5':>6} {'MRR':>6} {'P@5':>6} {'median ms':>10} {'p95 ms':>7}")
    for name, rank in systems.items():
        r = run(rank, queries, qrels)
        print(
            f"{name:<30} {r['SR@1']:>6.3f} {r['SR@5']:>6.3f} {r['MRR']:>6.3f} {r['P@5']:>6.3f}"
            f" {r['median_ms']:>10.3f} {r['p95_ms']:>7.3f}"
        )


if __name__ == "__main__":
    main()
