"""What a trained model does on one text, character by character: its next-character predictions
and the activation of every cell — the raw material of the inspect page.

The text is run through the same one-step `Stepper` the sampler uses, starting from the piece
separator (the state a fresh sample starts in), so activations are those the model has when it
writes music itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnmusic.errors import RnnMusicError
from rnnmusic.model import CharRNN, Stepper
from rnnmusic.vocabulary import check_known

TOP = 5


@dataclass
class Trace:
    text: str
    vocab: list[str]
    activations: np.ndarray  # (T, layers × hidden) in [-1, 1]; column K is cell K
    top_ids: np.ndarray  # (T, TOP): the likeliest characters to follow character t
    top_probs: np.ndarray  # (T, TOP)
    next_prob: (
        np.ndarray
    )  # (T,): probability given to the character that did follow (nan at the end)
    layers: int
    hidden: int
    what: str  # which state the activations are, e.g. "tanh(c)"

    @property
    def cells(self) -> int:
        return self.activations.shape[1]

    def cell_label(self, cell: int) -> str:
        return f"layer {cell // self.hidden + 1}, unit {cell % self.hidden}"


@torch.inference_mode()
def trace_text(model: CharRNN, vocab: list[str], separator: str, text: str) -> Trace:
    """Feed `text` one character at a time and record what the model predicts and holds."""
    check_known(
        text, vocab, "the input holds", "inspect text in the notation the model was trained on"
    )
    if not text:
        raise RnnMusicError("the input is empty; give a file with some music in it")
    index = {ch: i for i, ch in enumerate(vocab)}
    model = model.cpu().eval()
    stepper = Stepper(model)
    lstm = model.config.cell == "lstm"
    state = model.initial_state(1)
    for ch in separator if all(c in index for c in separator) else "":
        _, state = stepper(torch.tensor([index[ch]]), state)

    length = len(text)
    layers, hidden = model.config.num_layers, model.config.hidden_size
    activations = np.empty((length, layers * hidden), dtype=np.float32)
    top_ids = np.empty((length, min(TOP, len(vocab))), dtype=np.int64)
    top_probs = np.empty(top_ids.shape, dtype=np.float32)
    next_prob = np.full(length, np.nan, dtype=np.float32)
    ids = [index[ch] for ch in text]
    for t, token in enumerate(ids):
        logits, state = stepper(torch.tensor([token]), state)
        probs = torch.softmax(logits[0].float(), dim=-1)
        best = torch.topk(probs, top_ids.shape[1])
        top_ids[t], top_probs[t] = best.indices.numpy(), best.values.numpy()
        if t + 1 < length:
            next_prob[t] = probs[ids[t + 1]].item()
        cell_state = torch.tanh(state[1]) if lstm else state[0]
        activations[t] = cell_state[:, 0, :].reshape(-1).numpy()
    return Trace(
        text=text,
        vocab=list(vocab),
        activations=activations,
        top_ids=top_ids,
        top_probs=top_probs,
        next_prob=next_prob,
        layers=layers,
        hidden=hidden,
        what="tanh(c)" if lstm else "h",
    )
