"""Latency of `FaqIndexService.ask` on the shipped Suita FAQ (what the LINE bot calls per message),
alone and with 4 threads asking at once. Questions: ../shared/eval/resident_questions.jsonl.

    .venv/bin/python bench/faq_ask.py
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path

from faq.service import FaqIndexService

ROOT = Path(__file__).resolve().parent.parent

EVAL = ROOT.parent / "shared" / "eval" / "resident_questions.jsonl"
ROUNDS = 50


def timed(service: FaqIndexService, questions: list[str], out: list[float]) -> None:
    for _ in range(ROUNDS):
        for q in questions:
            start = time.perf_counter()
            service.ask(q)
            out.append((time.perf_counter() - start) * 1000)


def report(label: str, times: list[float]) -> None:
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"{label:<22} calls {len(times):>6}  median {statistics.median(times):.3f} ms  p95 {p95:.3f} ms")


def main() -> None:
    if not EVAL.exists():
        sys.exit(f"questions not found at {EVAL}")
    questions = [json.loads(line)["q"] for line in EVAL.read_text(encoding="utf-8").splitlines()]
    start = time.perf_counter()
    service = FaqIndexService.from_file()
    print(f"index of the shipped FAQ built in {time.perf_counter() - start:.2f} s")
    service.ask(questions[0])
    single: list[float] = []
    timed(service, questions, single)
    report("1 thread", single)
    shared: list[float] = []
    threads = [threading.Thread(target=timed, args=(service, questions, shared)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report("4 threads (per call)", shared)


if __name__ == "__main__":
    main()
