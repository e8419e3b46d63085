"""The char-rnn model: embedding → multi-layer LSTM (or GRU / vanilla RNN) → linear.

`nn.LSTM` runs the whole sequence in one fused call (cuDNN on a GPU, oneDNN/MKL kernels on a CPU).
Sampling goes one character at a time, where a fused call per character costs more in overhead
than in arithmetic; `Stepper` does the cell arithmetic on prepared weights instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rnnmusic.presets import CELLS, PRESETS, Preset

__all__ = ["CELLS", "PRESETS", "CharRNN", "ModelConfig", "Preset", "Stepper"]


@dataclass
class ModelConfig:
    vocab_size: int
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.0
    cell: str = "lstm"
    tie_weights: bool = False  # the output layer reads the embedding's matrix (Press & Wolf)

    def to_dict(self) -> dict:
        return asdict(self)


class CharRNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}")
        self.config = config
        rnn_class = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[config.cell]
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = rnn_class(
            config.hidden_size,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:  # one V×H matrix: measured 0.08 bits/char lower on abc (BENCHMARKS)
            self.head.weight = self.embed.weight
        if config.cell == "lstm":  # forget-gate bias 1: remember by default (Jozefowicz et al.)
            with torch.no_grad():
                h = config.hidden_size
                for layer in range(config.num_layers):
                    getattr(self.rnn, f"bias_ih_l{layer}")[h : 2 * h].fill_(1.0)
                    getattr(self.rnn, f"bias_hh_l{layer}")[h : 2 * h].fill_(0.0)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> tuple:
        shape = (self.config.num_layers, batch, self.config.hidden_size)
        zeros = torch.zeros(shape, device=device)
        return (zeros, zeros.clone()) if self.config.cell == "lstm" else (zeros,)

    def forward(self, idx: torch.Tensor, state: tuple | None = None) -> tuple[torch.Tensor, tuple]:
        """Logits (B, T, V) for token ids (B, T), and the state after the last step."""
        x = self.embed(idx)
        rnn_state = None if state is None else (state if self.config.cell == "lstm" else state[0])
        out, new_state = self.rnn(x, rnn_state)
        logits = self.head(self.drop(out))
        return logits, (new_state if isinstance(new_state, tuple) else (new_state,))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor, state: tuple | None = None):
        logits, state = self(idx, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))
        return loss, state

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class Stepper:
    """One-character-at-a-time inference with O(1) work per character.

    At small batches the cost is per-call overhead and weight bandwidth, so for LSTMs the
    embedding is folded into layer 0's input weights (a table lookup replaces a matmul), each
    upper layer does one matmul on [input, hidden], and the gates are reordered so one sigmoid
    covers input, forget and output gates: ~4× faster than an nn.LSTM call per character at
    batch 1. At large batches the fused kernel wins, so those go through nn.LSTM."""

    FUSED_FROM_BATCH = 16

    def __init__(self, model: CharRNN, batch: int = 1):
        self.model = model
        self.fast = model.config.cell == "lstm" and batch < self.FUSED_FROM_BATCH
        if not self.fast:
            return
        rnn, hidden = model.rnn, model.config.hidden_size
        order = torch.cat(  # PyTorch's gate order i, f, g, o → i, f, o, g
            [
                torch.arange(0, 2 * hidden),
                torch.arange(3 * hidden, 4 * hidden),
                torch.arange(2 * hidden, 3 * hidden),
            ]
        )
        with torch.no_grad():
            w0 = rnn.weight_ih_l0[order]
            b0 = (rnn.bias_ih_l0 + rnn.bias_hh_l0)[order]
            self.table = (model.embed.weight @ w0.t() + b0).contiguous()  # (V, 4H)
            self.w_hh0 = rnn.weight_hh_l0[order].t().contiguous()
            self.upper = []
            for layer in range(1, model.config.num_layers):
                w = torch.cat(
                    [getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")], 1
                )[order]
                b = (getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}"))[order]
                self.upper.append((w.t().contiguous(), b.contiguous()))
            self.head_w = model.head.weight.t().contiguous()
            self.head_b = model.head.bias.contiguous()
        self.split = 3 * hidden

    def _cell(self, gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sig = torch.sigmoid(gates[:, : self.split])
        i, f, o = sig.chunk(3, dim=1)
        c = torch.addcmul(f * c, i, torch.tanh(gates[:, self.split :]))
        return o * torch.tanh(c), c

    def __call__(self, idx: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """Logits (B, V) after feeding token ids (B,) to the given state."""
        if not self.fast:
            logits, state = self.model(idx[:, None], state)
            return logits[:, 0], state
        h_all, c_all = state
        h, c = self._cell(torch.addmm(self.table[idx], h_all[0], self.w_hh0), c_all[0])
        hs, cs = [h], [c]
        for layer, (w, b) in enumerate(self.upper, start=1):
            gates = torch.addmm(b, torch.cat([h, h_all[layer]], 1), w)
            h, c = self._cell(gates, c_all[layer])
            hs.append(h)
            cs.append(c)
        logits = torch.addmm(self.head_b, h, self.head_w)
        return logits, (torch.stack(hs), torch.stack(cs))
