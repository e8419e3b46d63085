"""Small builders for test inputs and tiny training configs."""

from __future__ import annotations

from pathlib import Path

from rnnmusic.train import TrainConfig


def tiny_config(corpus: Path | str, out: Path, **overrides) -> TrainConfig:
    """A model small enough that a few hundred steps take seconds on two cores."""
    values = dict(
        codec="text",
        corpus=str(corpus),
        out=str(out),
        preset="tiny",
        hidden_size=64,
        num_layers=2,
        batch_size=16,
        seq_len=32,
        max_steps=60,
        eval_every=20,
        learning_rate=5e-3,
        sample_length=60,
        progress=False,
        jobs=1,
        warmup_steps=5,
    )
    values.update(overrides)
    return TrainConfig(**values)


def counting_corpus(path: Path, pieces: int = 60) -> Path:
    """A deterministic text: each paragraph counts in words; its next character is predictable
    from context although single characters are spread over many letters."""
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    paragraphs = []
    for p in range(pieces):
        start, length = p % 10, 6 + (p * 7) % 17  # 170 distinct paragraphs before repeats
        paragraphs.append(" ".join(words[(start + i) % 10] for i in range(length)))
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path
