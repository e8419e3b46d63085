"""Grammar-constrained sampling: an untrained model still writes only valid pieces."""

from __future__ import annotations

import re

import pytest
import torch

from rnnmusic.constraints import TableConstraint
from rnnmusic.errors import RnnMusicError
from rnnmusic.model import CharRNN, ModelConfig
from rnnmusic.sample import SampleConfig, sample_texts

VOCAB = list("\n.|0123456789abc")
VALID_PIECE = re.compile(r"^[0-9]{3}(\.[0-9]{3})*\|$")


class GroupsGrammar:
    """Groups of three digits joined by '.', a closing '|', then the blank-line separator."""

    start = ("digits", 0)

    def step(self, state, ch):
        kind, n = state
        if kind == "digits":
            if ch.isdigit() and n < 3:
                return ("digits", n + 1)
            if n == 3 and ch == ".":
                return ("digits", 0)
            if n == 3 and ch == "|":
                return ("sep", 0)
            return None
        if kind == "sep" and ch == "\n":
            return ("sep", n + 1) if n + 1 < 2 else ("done", 0)
        return None

    def is_done(self, state):
        return state[0] == "done"


def _untrained_model():
    torch.manual_seed(0)
    return CharRNN(ModelConfig(vocab_size=len(VOCAB), hidden_size=32, num_layers=1))


def test_compiled_tables_know_the_shortest_piece():
    constraint = TableConstraint(GroupsGrammar(), VOCAB)
    assert constraint.shortest_piece() == len("123|\n\n")
    assert constraint.num_states == 4 + 2 + 1


def test_strict_samples_are_always_valid_and_finish_before_the_length_limit():
    model = _untrained_model()
    constraint = TableConstraint(GroupsGrammar(), VOCAB)
    texts = []
    for seed in range(4):
        config = SampleConfig(num=500, length=30, temperature=1.5, seed=seed)
        texts += sample_texts(model, VOCAB, "\n\n", config, "cpu", constraint)
    assert len(texts) == 2000
    bad = [t for t in texts if not VALID_PIECE.match(t)]
    assert bad == []
    loose = sample_texts(model, VOCAB, "\n\n", SampleConfig(num=200, length=30, seed=0))
    assert sum(not VALID_PIECE.match(t) for t in loose) > 150  # the grammar is doing the work


def test_strict_sampling_keeps_the_prime_and_rejects_an_invalid_one():
    model = _untrained_model()
    constraint = TableConstraint(GroupsGrammar(), VOCAB)
    config = SampleConfig(num=50, length=40, prime="123.4", seed=1)
    texts = sample_texts(model, VOCAB, "\n\n", config, "cpu", constraint)
    assert all(t.startswith("123.4") and VALID_PIECE.match(t) for t in texts)
    with pytest.raises(RnnMusicError, match="character 4"):
        bad = SampleConfig(num=2, length=20, prime="123a", seed=1)
        sample_texts(model, VOCAB, "\n\n", bad, "cpu", constraint)


def test_top_k_and_argmax_work_under_the_mask():
    model = _untrained_model()
    constraint = TableConstraint(GroupsGrammar(), VOCAB)
    for config in (
        SampleConfig(num=20, length=30, top_k=2, seed=3),
        SampleConfig(num=5, length=30, argmax=True),
        SampleConfig(num=20, length=30, top_p=0.5, seed=4),
    ):
        texts = sample_texts(model, VOCAB, "\n\n", config, "cpu", constraint)
        assert all(VALID_PIECE.match(t) for t in texts), texts
