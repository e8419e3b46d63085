"""An untrained model and its strict samples: the strict-grammar tests' common ground (an
untrained model tries every character, so every mistake the grammar must prevent is tried)."""

from __future__ import annotations

import torch

from rnnmusic.model import CharRNN, ModelConfig
from rnnmusic.sample import SampleConfig, sample_texts


def untrained_model(vocab: list[str], seed: int = 0) -> CharRNN:
    torch.manual_seed(seed)
    return CharRNN(ModelConfig(vocab_size=len(vocab), hidden_size=32, num_layers=1))


def strict_samples(
    codec, vocab: list[str], model: CharRNN, num: int, length: int, seed: int, **options
) -> list[str]:
    config = SampleConfig(num=num, length=length, seed=seed, **options)
    return sample_texts(model, vocab, codec.separator, config, "cpu", codec.constraint(vocab))
