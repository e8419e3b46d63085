"""Batches for truncated backpropagation through time, and the loss over a whole split."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from rnnmusic.errors import RnnMusicError
from rnnmusic.model import CharRNN


class StreamBatcher:
    """B contiguous streams over the tokens; batch p is the p-th window of T tokens of each stream,
    so the hidden state after batch p is the right starting state for batch p + 1.

    Under DDP each of `world` processes reads its own block of `batch_size / world` streams, so
    together they see exactly what one process with the whole batch would."""

    def __init__(
        self, tokens: np.ndarray, batch_size: int, seq_len: int, rank: int = 0, world: int = 1
    ):
        n = len(tokens)
        if n < 3:
            raise RnnMusicError("the corpus is too small to train on (fewer than 3 tokens)")
        seq_len = min(seq_len, n - 2)
        batch_size = max(world, min(batch_size, (n - 1) // (seq_len + 1)))
        if batch_size % world:
            raise RnnMusicError(
                f"the batch size ({batch_size}) must be a multiple of the number of processes "
                f"({world}); change --batch-size"
            )
        self.tokens, self.batch_size, self.seq_len = tokens, batch_size, seq_len
        self.local_batch = batch_size // world
        self.stream_len = (n - 1) // batch_size
        self.batches_per_epoch = max(1, self.stream_len // seq_len)
        streams = np.arange(rank * self.local_batch, (rank + 1) * self.local_batch)
        self.offsets = streams[:, None] * self.stream_len + np.arange(seq_len + 1)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        position = step % self.batches_per_epoch
        window = np.asarray(self.tokens[self.offsets + position * self.seq_len], dtype=np.int64)
        data = torch.from_numpy(window)
        return data[:, :-1], data[:, 1:]

    def starts_epoch(self, step: int) -> bool:
        return step % self.batches_per_epoch == 0


def autocast(device: torch.device):
    """bf16 on CUDA (cuDNN LSTM and the head run in bf16, the loss in fp32); fp32 elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.inference_mode()
def validation_loss(
    model: CharRNN,
    tokens: np.ndarray,
    batch_size: int,
    seq_len: int,
    device: torch.device,
    max_batches: int | None = None,
) -> float:
    """Mean loss (nats per character) over the split, state carried, dropout off."""
    was_training = model.training
    model.eval()
    n = len(tokens)
    batch_size = max(1, min(batch_size, (n - 1) // max(1, seq_len)))
    stream_len = (n - 1) // batch_size
    total, count = 0.0, 0
    state = model.initial_state(batch_size, device)
    starts = np.arange(batch_size)[:, None] * stream_len
    position, batches = 0, 0
    while position < stream_len and (max_batches is None or batches < max_batches):
        length = min(seq_len, stream_len - position)
        window = np.asarray(tokens[starts + position + np.arange(length + 1)], dtype=np.int64)
        data = torch.from_numpy(window).to(device)
        with autocast(device):
            logits, state = model(data[:, :-1], state)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)).float(), data[:, 1:].reshape(-1), reduction="sum"
        )
        total += loss.item()
        count += data[:, 1:].numel()
        position += length
        batches += 1
    model.train(was_training)
    return total / max(1, count)
