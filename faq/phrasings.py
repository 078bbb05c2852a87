"""How much of an entry's closest phrasing a question covers: the reverse of query coverage.

An entry's phrasings are its question and each alternative. A question that covers one phrasing
entirely asks what that phrasing asks (「コンビニで住民票とれる？」 covers 「住民票をコンビニで発行
できますか」); one that only shares a word with a long phrasing may ask something else (「印鑑証明が
欲しい」 against 「休日に住民票や印鑑登録証明書をとれますか」). The terms live in flat numpy arrays,
a few bytes per term, so the index stays small at 100k entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class Phrasings:
    """Each entry's phrasings as idf-weighted term sets (immutable once built)."""

    def __init__(self, docs: Sequence[Sequence[Sequence[str]]], idf: Mapping[str, float]) -> None:
        self.vocab: dict[str, int] = {}
        terms: list[int] = []
        weights: list[float] = []
        starts = [0]  # where each phrasing's terms begin; one more than there are phrasings
        self.first = np.zeros(len(docs) + 1, dtype=np.int32)  # each entry's first phrasing
        for i, phrasings in enumerate(docs):
            for phrasing in phrasings:
                unique = [t for t in dict.fromkeys(phrasing) if t in idf]
                if unique:
                    terms.extend(self.vocab.setdefault(t, len(self.vocab)) for t in unique)
                    weights.extend(idf[t] for t in unique)
                    starts.append(len(terms))
            self.first[i + 1] = len(starts) - 1
        self.terms = np.array(terms, dtype=np.int32)
        self.weights = np.array(weights, dtype=np.float32)
        self.starts = np.array(starts, dtype=np.int64)
        # the phrasing each stored term belongs to
        self.phrase_of = np.repeat(np.arange(len(starts) - 1, dtype=np.int32), np.diff(self.starts))

    def covered(self, query: Iterable[str], entries: Sequence[int] | npt.NDArray[np.intp]) -> FloatArray:
        """Per entry: the largest idf-weighted share of one of its phrasings found in the query."""
        rows = np.asarray(entries, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        in_query = np.zeros(len(self.vocab), dtype=bool)
        in_query[[self.vocab[t] for t in query if t in self.vocab]] = True
        lo, hi = self.starts[self.first[rows]], self.starts[self.first[rows + 1]]
        lengths = hi - lo
        if not in_query.any() or not lengths.any():
            return out
        # the positions of every candidate's terms, laid end to end (a vectorised concat of ranges)
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        spans = np.arange(int(lengths.sum())) + np.repeat(lo - offsets, lengths)
        w = self.weights[spans]
        found = np.where(in_query[self.terms[spans]], w, 0)
        phrase = self.phrase_of[spans]
        bounds = np.flatnonzero(np.concatenate(([True], phrase[1:] != phrase[:-1])))
        share = np.add.reduceat(found, bounds) / np.add.reduceat(w, bounds)
        owner = np.repeat(np.arange(len(rows)), lengths)[bounds]
        np.maximum.at(out, owner, share.astype(np.float32))
        return out
