"""The hybrid matcher: BM25F over question (+ alternatives) and answer, rapidfuzz on questions, an
optional semantic re-ranker, and the features the calibrated confidence is computed from.

A `Matcher` is immutable once built, so any number of threads can call `rank` at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from faq.actions import Does, asked, does, mismatch
from faq.bm25 import FieldedBM25, FloatArray, TermDocs
from faq.corpus import Entry
from faq.normalize import fold_kana, normalize
from faq.phrasings import Phrasings
from faq.tokenize import analyse, terms

W_QUESTION = 3.0  # BM25F weight of the question field's terms against the answer's (localgov tuning half)
BEST_SHARE = 1.5  # the query's best possible score: this × the sum of its term weights (the unit of W_*)
W_FUZZ = 0.1  # rapidfuzz similarity of the questions, as a share of the query's best possible score
FUZZ_CANDIDATES = 50  # BM25 candidates re-scored by rapidfuzz (and the semantic re-ranker)
TYPO_SCAN_LIMIT = 5000  # corpora up to this size get a full rapidfuzz scan when BM25 finds nothing
TYPO_CUTOFF = 70.0
W_PHRASING = 0.3  # share of the entry's closest phrasing found in the query, × the query's best score
W_UNKNOWN_ACTION = 0.5  # weight of a verb or adjective the corpus lacks, as a share of the highest idf
W_SEMANTIC = 0.1  # standardised semantic similarity, as a share of the query's best possible score


class Reranker(Protocol):
    """A semantic similarity model (optional extra); `similarities` returns one value per entry."""

    def index(self, texts: Sequence[str]) -> None: ...

    def similarities(self, query: str) -> FloatArray: ...


@dataclass(frozen=True)
class Candidate:
    """One ranked entry with the features confidence is computed from."""

    index: int
    score: float  # fused score, comparable within one query
    coverage: float  # idf-weighted share of the query's terms found in the entry (0..1)
    q_coverage: float  # the same, in the entry's question and alternatives only
    fuzzy: float  # rapidfuzz similarity of the question (0..1)
    phrasing: float = 0.0  # idf-weighted share of the entry's closest phrasing found in the query
    mismatch: bool = False  # the question asks to do what this entry is not about (top candidate only)


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]


def fuzzy_key(text: str) -> str:
    """The string rapidfuzz compares: normalised, kana folded, without spaces."""
    return fold_kana(normalize(text)).replace(" ", "")


class Matcher:
    """Ranks the entries of one language for a question."""

    def __init__(self, entries: Sequence[Entry], reranker: Reranker | None = None) -> None:
        self.entries = list(entries)
        phrasings = [[terms(p) for p in (e.question, *e.alternatives)] for e in self.entries]
        a_docs = [terms(e.answer) for e in self.entries]
        q_docs = [[t for p in ps for t in p] for ps in phrasings]
        self.questions = TermDocs(q_docs)  # per field: idf and coverage; ranking uses `fields`
        self.phrasings = Phrasings(phrasings, self.questions.idf)
        self.answers = TermDocs(a_docs)
        self.fields = FieldedBM25([q_docs, a_docs], (W_QUESTION, 1.0))
        self.keys = [fuzzy_key(e.question) for e in self.entries]
        self.ids = np.array([e.id for e in self.entries])
        self.reranker = reranker
        if reranker is not None:
            reranker.index([e.question for e in self.entries])
        n = max(len(self.entries), 1)
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def term_weight(self, term: str) -> float:
        """A term's idf in this corpus; the highest possible idf for a term the corpus lacks."""
        known = max(self.questions.idf.get(term, 0.0), self.answers.idf.get(term, 0.0))
        return known or self.unknown_idf

    def _weights(self, query: list[tuple[str, bool]]) -> dict[str, float]:
        """Each distinct query term's weight: its idf; for terms the corpus lacks, the highest idf
        (a word the FAQ does not know may be what the question is about), a share of it for verbs
        and adjectives (colloquial words: 鳴る, 飛ばす)."""
        out: dict[str, float] = {}
        for t, naming in query:
            known = max(self.questions.idf.get(t, 0.0), self.answers.idf.get(t, 0.0))
            out.setdefault(t, known or self.unknown_idf * (1.0 if naming else W_UNKNOWN_ACTION))
        return out

    def _coverage(self, weights: dict[str, float], docs: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """Idf-weighted share of the query found in each doc: anywhere, and in question fields."""
        cands = docs.astype(np.int32)
        anywhere = np.zeros(len(docs), dtype=np.float32)
        in_question = np.zeros(len(docs), dtype=np.float32)
        for term, weight in weights.items():
            q = self._has(self.questions, term, cands)
            in_question += weight * q
            anywhere += weight * (q | self._has(self.answers, term, cands))
        total = sum(weights.values()) or 1.0
        return anywhere / total, in_question / total

    @staticmethod
    def _has(index: TermDocs, term: str, cands: np.ndarray) -> np.ndarray:
        docs = index.docs.get(term)  # ascending, so a binary search per candidate suffices
        if docs is None:
            return np.zeros(len(cands), dtype=bool)
        at = np.minimum(np.searchsorted(docs, cands), len(docs) - 1)
        return np.asarray(docs[at] == cands)

    def rank(self, question: str, k: int = 10) -> Ranking:
        """The best `k` entries, best first; ties broken by entry id."""
        if not self.entries or not question.strip():
            return Ranking([])
        analysed = analyse(question)
        query = [t for t, _ in analysed]
        bm25 = self.fields.scores(query)
        weights = self._weights(analysed)
        best = BEST_SHARE * sum(weights.values()) or 1.0
        fz, pool = self._fuzzy(question, self._pool(bm25, max(k, FUZZ_CANDIDATES)))
        fused = bm25 + W_FUZZ * best * fz
        if self.reranker is not None:
            fused, pool = self._semantic(self.reranker, question, fused, pool, best)
        cov, q_cov = self._coverage(weights, pool)
        phr = self.phrasings.covered(weights, pool)
        score = fused[pool] + W_PHRASING * best * phr
        top = self._top(score, pool, k)
        acts = asked(question)
        return Ranking(
            [
                Candidate(
                    int(pool[n]),
                    float(score[n]),
                    float(cov[n]),
                    float(q_cov[n]),
                    float(fz[pool[n]]),
                    float(phr[n]),
                    rank == 0 and bool(acts) and mismatch(acts, self._does(int(pool[n]))),
                )
                for rank, n in enumerate(top)
            ]
        )

    def _does(self, index: int) -> Does:
        entry = self.entries[index]
        return does((entry.question, *entry.alternatives))

    def _fuzzy(self, question: str, pool: np.ndarray) -> tuple[FloatArray, np.ndarray]:
        """rapidfuzz similarity (0..1) for the BM25 candidates; with none, a typo scan of all questions."""
        key = fuzzy_key(question)
        fz = np.zeros(len(self.entries), dtype=np.float32)
        if pool.size:
            fz[pool] = process.cdist([key], [self.keys[i] for i in pool], scorer=fuzz.WRatio)[0] / 100
        elif len(self.entries) <= TYPO_SCAN_LIMIT and key:
            fz = (process.cdist([key], self.keys, scorer=fuzz.WRatio)[0] / 100).astype(np.float32)
            fz[fz < TYPO_CUTOFF / 100] = 0
            pool = np.flatnonzero(fz)
        return fz, pool

    def _semantic(
        self, reranker: Reranker, question: str, fused: FloatArray, pool: np.ndarray, best: float
    ) -> tuple[FloatArray, np.ndarray]:
        """Add the standardised semantic similarity; its best entries join the candidate pool."""
        sims = reranker.similarities(question)
        if sims.size != len(self.entries) or not sims.size:
            return fused, pool
        z = np.maximum((sims - sims.mean()) / (sims.std() or 1.0), 0).astype(np.float32)
        top = np.argpartition(-sims, min(FUZZ_CANDIDATES, sims.size) - 1)[:FUZZ_CANDIDATES]
        return fused + W_SEMANTIC * best * z, np.union1d(pool, top)

    def _pool(self, scores: FloatArray, size: int) -> np.ndarray:
        hits = np.flatnonzero(scores > 0)
        if hits.size > size:
            hits = hits[np.argpartition(-scores[hits], size - 1)[:size]]
        return hits

    def _top(self, scores: FloatArray, pool: np.ndarray, k: int) -> list[int]:
        """Positions in `pool` of the best `k` positive scores (`scores` is aligned with `pool`)."""
        keep = np.flatnonzero(scores > 0)
        order = np.lexsort((self.ids[pool[keep]], -scores[keep]))
        return [int(keep[i]) for i in order[:k]]
