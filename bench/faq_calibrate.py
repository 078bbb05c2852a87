"""Fit the FAQ confidence model and measure the answer/suggest/fallback decisions.

Reads the localgovFAQ dev split from ../shared at run time. In-scope samples are the dev queries
(label: the top entry is relevant). Out-of-scope samples are the same queries ranked with all their
relevant entries removed, so the best remaining entry is wrong by construction. Rankings keep the
10 best candidates, as the service does. Decisions are `faq.decide.answers`, the rule the service
applies (confidence with the coverage floor, or the top entry explaining the question).

    .venv/bin/python bench/faq_calibrate.py            # fit, print coefficients and decision quality
    .venv/bin/python bench/faq_calibrate.py --check    # only measure the coefficients in faq/decide.py
    .venv/bin/python bench/faq_calibrate.py --half tune  # fit and measure on the tuning half only
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from faq.corpus import parse_file
from faq.decide import CALIBRATION, Calibration, answers, confidence, explains, features
from faq.decision_quality import SPLITS, localgov_half
from faq.match import Matcher, Ranking

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"
KEEP = 10  # candidates per ranking, as `FaqIndexService` asks for


def samples(
    matcher: Matcher, half: str | None = None
) -> tuple[list[Ranking], list[int], list[set[int]], list[bool]]:
    """Rankings, top-1 labels, relevant indexes and in-scope flags for every dev query (×2), or for
    one half of them."""
    index = {e.id: i for i, e in enumerate(matcher.entries)}
    qrels = json.loads((DATA / "dev_qrels.json").read_text())
    out: tuple[list[Ranking], list[int], list[set[int]], list[bool]] = ([], [], [], [])
    for line in (DATA / "dev_queries.jsonl").read_text().splitlines():
        q = json.loads(line)
        if half and localgov_half(str(q["id"])) != half:
            continue
        rel = {index[e] for e, g in qrels.get(q["id"], {}).items() if g >= 1 and e in index}
        full = matcher.rank(q["text"], 60)
        removed = Ranking([c for c in full.candidates if c.index not in rel][:KEEP])
        full = Ranking(full.candidates[:KEEP])
        for ranking, in_scope in ((full, True), (removed, False)):
            top = ranking.candidates[0].index if ranking.candidates else -1
            out[0].append(ranking)
            out[1].append(int(top in rel))
            out[2].append(rel)
            out[3].append(in_scope)
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.01) -> np.ndarray:
    """Logistic regression by Newton's method (bias first)."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + l2 * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def report(cal: Calibration, data: tuple[list[Ranking], list[int], list[set[int]], list[bool]]) -> None:
    rankings, labels, rels, scope = data
    conf = np.array([confidence(r, cal) for r in rankings])
    lab, ins = np.array(labels), np.array(scope)
    top3 = np.array(
        [any(c.index in rel for c in r.candidates[:3]) for r, rel in zip(rankings, rels, strict=True)]
    )
    print(
        f"answer: confidence >= answer_at with coverage >= {cal.answer_coverage}, or the top entry explains"
    )
    print(f"{'answer_at':>9} {'answers':>8} {'precision':>9} {'oos→answer':>10} {'suggest ok@3':>12}")
    for t in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, cal.answer_at):
        at = dataclasses.replace(cal, answer_at=t)
        ans = np.array(
            [bool(r.candidates) and answers(r, p, at) for r, p in zip(rankings, conf, strict=True)]
        )
        prec = lab[ans & ins].mean() if (ans & ins).any() else float("nan")
        sug = ~ans & (conf >= cal.suggest_at) & ins
        oos_answer = (ans & ~ins).sum() / (~ins).sum()
        ok3 = top3[sug].mean() if sug.any() else float("nan")
        print(f"{t:9.2f} {(ans & ins).sum() / ins.sum():8.3f} {prec:9.3f} {oos_answer:10.3f} {ok3:12.3f}")
    by_rule = np.array(
        [explains(r, cal) and p >= cal.suggest_at for r, p in zip(rankings, conf, strict=True)]
    )
    print(
        f"the explain rule fires for: in-scope {(by_rule & ins).sum()} "
        f"(correct {(by_rule & ins & (lab == 1)).sum()}), out-of-scope {(by_rule & ~ins).sum()}"
    )
    print(f"{'suggest_at':>10} {'in-scope fallback':>17} {'oos fallback':>12}")
    for s in (0.05, 0.1, 0.15, 0.2, 0.3, cal.suggest_at):
        fb_in = ((conf < s) & ins).sum() / ins.sum()
        fb_oos = ((conf < s) & ~ins).sum() / (~ins).sum()
        print(f"{s:10.2f} {fb_in:17.3f} {fb_oos:12.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--half", choices=SPLITS, help="only this half of the dev questions")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    matcher = Matcher(parse_file(DATA / "corpus.jsonl"))
    data = samples(matcher, args.half)
    cal = CALIBRATION
    if not args.check:
        x = np.array([features(r) for r in data[0]])
        w = fit(x, np.array(data[1], dtype=float))
        cal = dataclasses.replace(cal, bias=w[0], coverage=w[1], q_coverage=w[2], margin=w[3], fuzzy=w[4])
        print(
            "fitted:",
            ", ".join(
                f"{k}={v:.3f}"
                for k, v in zip(("bias", "coverage", "q_coverage", "margin", "fuzzy"), w, strict=True)
            ),
        )
    report(cal, data)


if __name__ == "__main__":
    main()
