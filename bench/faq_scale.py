"""How FAQ index build time, memory and query latency grow with the corpus (100 … 100k entries).

The corpus is synthetic, made from the localgovFAQ dev corpus (read from ../shared at run time):
entry i pairs the question of one real entry with the answer of another, so vocabulary and posting
lengths grow as in a real, larger FAQ. Queries are the 150 dev questions.

    .venv/bin/python bench/faq_scale.py [--sizes 100,1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from functools import partial
from pathlib import Path

from faq.corpus import Entry
from faq.match import Matcher
from faq.retrieval_metrics import read_queries, timed_build
from faq.tokenize import terms

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"


def synthetic(size: int, seed: int = 7) -> list[Entry]:
    rows = [json.loads(line) for line in (DATA / "corpus.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    out = []
    for i in range(size):
        q, a = rows[i % len(rows)], rows[rng.randrange(len(rows))]
        out.append(Entry(id=f"s{i}", question=q["question"], answer=a["answer"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    queries = [q.text for q in read_queries(DATA / "dev_queries.jsonl")]
    terms("辞書")  # load the Sudachi dictionary outside the measurements
    print(f"{'entries':>8} {'build s':>8} {'index MB':>9} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        entries = synthetic(size)
        matcher, build_s, index_mb = timed_build(partial(Matcher, entries))
        matcher.rank(queries[0], 10)
        times = []
        for q in queries:
            start = time.perf_counter()
            matcher.rank(q, 10)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        median = statistics.median(times)
        print(f"{size:>8} {build_s:>8.2f} {index_mb:>9.1f} {median:>10.3f} {p95:>8.3f} {times[-1]:>8.3f}")


if __name__ == "__main__":
    main()
