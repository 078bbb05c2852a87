"""Retrieval metrics and the `python -m faq bench` runner (SR@k, MRR, P@5, latency, build, memory).

Metrics follow the localgovFAQ benchmark: a query is answered at rank r when an entry graded ≥ 1 is
there; ranking is over the whole corpus with ties broken by entry id.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Query:
    id: str
    text: str


def first_relevant(ranked: Sequence[str], relevant: set[str]) -> int | None:
    """0-based rank of the first relevant entry, or None."""
    return next((i for i, entry_id in enumerate(ranked) if entry_id in relevant), None)


def metrics(rankings: dict[str, list[str]], qrels: Qrels) -> dict[str, float]:
    """SR@1, SR@5, MRR and P@5 over the queries in `rankings` (grade ≥ 1 counts as relevant)."""
    n = len(rankings) or 1
    sr1 = sr5 = mrr = p5 = 0.0
    for qid, ranked in rankings.items():
        relevant = {e for e, grade in qrels.get(qid, {}).items() if grade >= 1}
        r = first_relevant(ranked, relevant)
        sr1 += r == 0
        sr5 += r is not None and r < 5
        mrr += 1 / (r + 1) if r is not None else 0.0
        p5 += sum(e in relevant for e in ranked[:5]) / 5
    return {"SR@1": sr1 / n, "SR@5": sr5 / n, "MRR": mrr / n, "P@5": p5 / n}


def read_queries(path: Path) -> list[Query]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Query(str(r["id"]), str(r["text"])) for r in rows]


def read_qrels(path: Path) -> Qrels:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(q): {str(e): int(g) for e, g in grades.items()} for q, grades in data.items()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(rank: Callable[[str], list[str]], queries: Sequence[Query], qrels: Qrels) -> dict[str, Any]:
    """Rank every query (one warm-up first) and return the metrics with per-query latency."""
    if queries:
        rank(queries[0].text)
    rankings: dict[str, list[str]] = {}
    times: list[float] = []
    for q in queries:
        start = time.perf_counter()
        rankings[q.id] = rank(q.text)
        times.append((time.perf_counter() - start) * 1000)
    result: dict[str, Any] = {k: round(v, 3) for k, v in metrics(rankings, qrels).items()}
    result["queries"] = len(queries)
    result["median_ms"] = round(statistics.median(times), 3) if times else 0.0
    result["p95_ms"] = round(sorted(times)[int(0.95 * (len(times) - 1))], 3) if times else 0.0
    return result


def timed_build(build: Callable[[], T]) -> tuple[T, float, float]:
    """Build twice: once timed, once under tracemalloc for the memory the result holds (MB)."""
    start = time.perf_counter()
    built = build()
    seconds = time.perf_counter() - start
    del built
    tracemalloc.start()
    try:
        built = build()
        held = tracemalloc.get_traced_memory()[0] / 2**20
    finally:
        tracemalloc.stop()
    return built, seconds, held
