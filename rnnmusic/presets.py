"""Model sizes with the training settings that suit them. Kept apart from `model` so the
command line can list them without importing torch."""

from __future__ import annotations

from dataclasses import dataclass

CELLS = ("lstm", "gru", "rnn")


@dataclass(frozen=True)
class Preset:
    """Model size plus the training settings that suit it."""

    hidden_size: int
    num_layers: int
    dropout: float
    batch_size: int
    seq_len: int
    learning_rate: float
    max_steps: int
    eval_every: int
    about: str
    tie_weights: bool = False


PRESETS: dict[str, Preset] = {
    "tiny": Preset(128, 2, 0.0, 32, 64, 3e-3, 1500, 250, "2×128, a few minutes on 2 CPU cores"),
    "small": Preset(
        256, 2, 0.2, 50, 100, 2e-3, 6000, 500, "2×256, about half an hour on a CPU", True
    ),  # tied, dropout 0.2: 1.383 against 1.459 bits/char in 30 CPU-minutes on abc (BENCHMARKS)
    "medium": Preset(512, 2, 0.25, 50, 100, 2e-3, 20000, 1000, "2×512 (char-rnn's default size)"),
    "large": Preset(512, 3, 0.5, 100, 100, 2e-3, 50000, 1000, "3×512 (char-rnn's large model)"),
}
