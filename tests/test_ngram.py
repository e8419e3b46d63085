"""The n-gram baseline: equal to a plain textbook implementation, and to a Markov chain's entropy."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pytest

from rnnmusic.ngram import KneserNey, baseline


def textbook_kneser_ney(train: str, vocab: list[str], order: int):
    """Interpolated Kneser-Ney written the slow, obvious way with dictionaries."""
    raw = [Counter() for _ in range(order + 1)]
    for n in range(1, order + 1):
        for i in range(len(train) - n + 1):
            raw[n][train[i : i + n]] += 1
    cont = [Counter() for _ in range(order + 1)]
    for n in range(1, order + 1):
        preceded = defaultdict(set)
        for i in range(1, len(train) - n + 1):
            preceded[train[i : i + n]].add(train[i - 1])
        for gram, before in preceded.items():
            cont[n][gram] = len(before)

    def discount(counts):
        n1 = sum(1 for c in counts.values() if c == 1)
        n2 = sum(1 for c in counts.values() if c == 2)
        return 0.5 if n1 == 0 else min(0.99, max(0.01, n1 / (n1 + 2 * n2)))

    def prob(history: str, w: str) -> float:
        p = 1.0 / len(vocab)
        for n in range(1, order + 1):
            if len(history) < n - 1:
                break
            ctx = history[len(history) - (n - 1) :] if n > 1 else ""
            counts = raw[n] if n == order else cont[n]
            d = discount(counts)
            following = {g: c for g, c in counts.items() if g[:-1] == ctx}
            total = sum(following.values())
            if total == 0:
                continue
            p = max(counts.get(ctx + w, 0) - d, 0) / total + d * len(following) / total * p
        return p

    return prob


def test_matches_the_textbook_implementation():
    train = "abracadabra abracadabra cadabra bra abra ca"
    valid = "abra cadabra bracab"
    vocab = sorted(set(train + valid))
    index = {c: i for i, c in enumerate(vocab)}
    tr = np.array([index[c] for c in train])
    va = np.array([index[c] for c in valid])
    model = KneserNey(tr, len(vocab), max_order=4)
    for order in (1, 2, 3, 4):
        expected = [
            math.log2(textbook_kneser_ney(train, vocab, order)(valid[:i], valid[i]))
            for i in range(1, len(valid))
        ]
        np.testing.assert_allclose(model.log2_probs(va, order), expected, rtol=1e-9)


def test_unigram_bits_on_a_hand_checkable_corpus():
    # train "aab", order 1 (raw counts a:2, b:1). Counts-of-counts n1 = 1, n2 = 1, so
    # D = 1 / (1 + 2) = 1/3; total 3, two types, uniform 1/2 below:
    #   p(a) = (2 - 1/3)/3 + (1/3)(2/3)(1/2) = 2/3,   p(b) = (1 - 1/3)/3 + 1/9 = 1/3
    # validation "aba" scores its 2nd and 3rd characters: -(log2 1/3 + log2 2/3) / 2
    model = KneserNey(np.array([0, 0, 1]), 2, max_order=2)
    expected = -(math.log2(1 / 3) + math.log2(2 / 3)) / 2
    assert model.bits_per_char(np.array([0, 1, 0]), 1) == pytest.approx(expected, rel=1e-12)


def test_bits_per_char_approach_a_markov_chains_entropy_rate():
    rng = np.random.default_rng(0)
    transition = rng.dirichlet(np.full(6, 0.4), size=6)
    stationary = np.linalg.matrix_power(transition, 200)[0]
    rate = -sum(
        stationary[i] * transition[i, j] * math.log2(transition[i, j])
        for i in range(6)
        for j in range(6)
        if transition[i, j] > 0
    )
    states = [0]
    for _ in range(220_000):
        states.append(rng.choice(6, p=transition[states[-1]]))
    tokens = np.array(states)
    result = baseline(tokens[:200_000], tokens[200_000:], 6, max_order=5)
    assert result.bpc_by_order[2] == pytest.approx(rate, abs=0.03)
    assert result.bpc_by_order[1] > rate + 0.1  # order 1 ignores the previous state
    assert result.best_bpc <= result.bpc_by_order[2] + 1e-9
