"""The yardstick: a character n-gram model with interpolated Kneser-Ney smoothing.

Goldberg's answer to char-rnn was that a smoothed n-gram model writes plausible text too; an LSTM
is only worth its training time if it beats one on the same held-out text. This model counts
n-grams of orders 1–12 with 64-bit rolling hashes in numpy (no Python loop per character), so it
fits a few-MB corpus in seconds.

Interpolated Kneser-Ney (Chen & Goodman 1998), one absolute discount per order:
  p_n(w | h) = max(c(h w) − D_n, 0) / c(h) + D_n · N1+(h •) / c(h) · p_{n−1}(w | h')
where the highest order uses raw counts and every lower order uses continuation counts
c(h w) = N1+(• h w); an unseen context h defers to the order below; order 0 is uniform.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

PRIME = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier for the rolling hash (wraps mod 2^64)
MAX_TRAIN_CHARS = 20_000_000  # the baseline fits on at most this many training characters


def rolling_hashes(tokens: np.ndarray, max_order: int) -> Iterator[np.ndarray]:
    """Yields h_0, h_1, … h_max_order where h_n[i] identifies tokens[i : i + n]. Windows that run
    past the end hash in zeros (token values are shifted by one), so they never match real ones."""
    values = tokens.astype(np.uint64) + np.uint64(1)
    padded = np.concatenate([values, np.zeros(max_order, dtype=np.uint64)])
    current = np.zeros(len(tokens), dtype=np.uint64)
    yield current
    with np.errstate(over="ignore"):
        for n in range(1, max_order + 1):
            current = current * PRIME + padded[n - 1 : n - 1 + len(tokens)]
            yield current


@dataclass
class _Level:
    """Counts of one order, as sorted hash arrays for vectorised lookup."""

    grams: np.ndarray  # sorted unique n-gram hashes
    counts: np.ndarray  # raw count (top level) or continuation count (lower levels)
    contexts: np.ndarray  # sorted unique context hashes
    context_totals: np.ndarray  # Σ_w count(h w)
    context_types: np.ndarray  # N1+(h •)
    discount: float


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    if len(keys) == 0:
        return np.zeros(len(queries), dtype=np.float64)
    pos = np.searchsorted(keys, queries)
    pos = np.minimum(pos, len(keys) - 1)
    found = keys[pos] == queries
    return np.where(found, values[pos], 0).astype(np.float64)


def _discount(counts: np.ndarray) -> float:
    n1 = int(np.sum(counts == 1))
    n2 = int(np.sum(counts == 2))
    if n1 == 0:
        return 0.5
    return float(min(0.99, max(0.01, n1 / (n1 + 2 * n2))))


def _level(gram_hashes: np.ndarray, context_hashes: np.ndarray) -> _Level:
    """Aggregate one row per occurrence (gram, its context) into counts per gram and context."""
    grams, first, counts = np.unique(gram_hashes, return_index=True, return_counts=True)
    gram_contexts = context_hashes[first]
    contexts, ctx_inverse = np.unique(gram_contexts, return_inverse=True)
    totals = np.bincount(ctx_inverse, weights=counts).astype(np.int64)
    types = np.bincount(ctx_inverse).astype(np.int64)
    return _Level(grams, counts, contexts, totals, types, _discount(counts))


class KneserNey:
    """Character n-gram models of every order 1…max_order, fitted on one token stream."""

    def __init__(self, train: np.ndarray, vocab_size: int, max_order: int = 12):
        train = np.asarray(train[:MAX_TRAIN_CHARS], dtype=np.int64)
        self.vocab_size = vocab_size
        self.max_order = max_order
        n = len(train)
        self.raw: list[_Level | None] = [None]
        self.continuation: list[_Level | None] = [None]
        hashes = rolling_hashes(train, max_order + 1)
        shorter, current, longer = next(hashes), next(hashes), next(hashes)
        for order in range(1, max_order + 1):
            fits = n - order + 1  # windows of this order that lie inside the text
            self.raw.append(_level(current[:fits], shorter[:fits]))
            # continuation count of x = distinct characters seen before x = distinct
            # (order+1)-grams that end in x; the one starting at j-1 ends in the x at j
            j = np.arange(1, fits)
            _, first = np.unique(longer[j - 1], return_index=True)
            at = j[first]
            self.continuation.append(_level(current[at], shorter[at]))
            shorter, current = current, longer
            longer = next(hashes, None)

    def log2_probs(self, tokens: np.ndarray, order: int) -> np.ndarray:
        """log2 p(tokens[i] | tokens[i-order+1 : i]) for i = 1 … len − 1 (same targets the LSTM's
        validation loss scores)."""
        tokens = np.asarray(tokens, dtype=np.int64)
        hashes = list(rolling_hashes(tokens, order))
        targets = np.arange(1, len(tokens))
        prob = np.full(len(targets), 1.0 / self.vocab_size)
        for n in range(1, order + 1):
            level = self.raw[n] if n == order else self.continuation[n]
            starts = targets - (n - 1)
            usable = starts >= 0
            s = np.where(usable, starts, 0)
            gram_q, ctx_q = hashes[n][s], hashes[n - 1][s]
            count = _lookup(level.grams, level.counts, gram_q)
            total = _lookup(level.contexts, level.context_totals, ctx_q)
            types = _lookup(level.contexts, level.context_types, ctx_q)
            seen = usable & (total > 0)
            safe_total = np.where(seen, total, 1.0)
            mixed = (
                np.maximum(count - level.discount, 0.0) / safe_total
                + level.discount * types / safe_total * prob
            )
            prob = np.where(seen, mixed, prob)
        return np.log2(prob)

    def bits_per_char(self, tokens: np.ndarray, order: int) -> float:
        return float(-np.mean(self.log2_probs(tokens, order)))


@dataclass
class BaselineResult:
    bpc_by_order: dict[int, float]
    best_order: int
    best_bpc: float
    train_chars: int
    valid_chars: int


def baseline(
    train: np.ndarray, valid: np.ndarray, vocab_size: int, max_order: int = 12
) -> BaselineResult:
    """Fit once, score every order on validation, report the best (as Goldberg did)."""
    model = KneserNey(train, vocab_size, max_order)
    scores = {n: model.bits_per_char(valid, n) for n in range(1, max_order + 1)}
    best = min(scores, key=scores.get)
    return BaselineResult(scores, best, scores[best], min(len(train), MAX_TRAIN_CHARS), len(valid))


def entropy_bits(probs: np.ndarray) -> float:
    probs = probs[probs > 0]
    return float(-(probs * np.log2(probs)).sum()) if len(probs) else math.nan
