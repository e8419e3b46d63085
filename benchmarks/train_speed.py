"""Training and sampling speed, side by side in one run (ratios survive a noisy shared machine).

Training, per model size, on the same batch shape:
  ceiling  a bare fused nn.LSTM step on random batches (forward, backward, clip, Adam)
  naive    a per-time-step nn.LSTMCell Python loop, as many simple char-rnn ports train
  rnnmusic our trainer's loop on a real corpus (memory-mapped data, state carry, logging)
plus the validation+checkpoint cost and the share of the machine's fp32 matmul rate achieved.
Sampling: our Stepper vs. one nn.LSTM call per character, at batch 1 and 64.

    python benchmarks/train_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402

from rnnmusic.codecs import get_codec  # noqa: E402
from rnnmusic.corpus import build_corpus  # noqa: E402
from rnnmusic.model import CharRNN, ModelConfig  # noqa: E402
from rnnmusic.sample import SampleConfig, sample_texts  # noqa: E402
from rnnmusic.train import TrainConfig, fit  # noqa: E402

MIDI_VOCAB = sorted(set(".+-\n /0123456789CcDdEFfGgAaB_TM"))


def flops_per_token(hidden: int, layers: int, vocab: int) -> float:
    """Training FLOPs per character: forward matmuls ×3 (forward + two backward products)."""
    forward = sum(2 * 4 * hidden * (hidden + hidden) for _ in range(layers)) + 2 * hidden * vocab
    return 3.0 * forward


def matmul_rate() -> float:
    """Best sustained fp32 GFLOP/s over matmul shapes like the LSTM's."""
    best = 0.0
    for m, k, n in ((5000, 512, 2048), (5000, 1024, 2048), (2048, 2048, 2048)):
        a, b = torch.randn(m, k), torch.randn(k, n)
        torch.mm(a, b)
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            torch.mm(a, b)
            reps += 1
        best = max(best, 2 * m * k * n * reps / (time.perf_counter() - start) / 1e9)
    return best


def ceiling_rate(hidden: int, layers: int, vocab: int, batch: int, seq: int, steps: int) -> float:
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab, hidden, layers))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    data = torch.randint(0, vocab, (steps + 2, batch, seq + 1))
    state = model.initial_state(batch)

    def step(i):
        nonlocal state
        loss, state = model.loss(data[i, :, :-1], data[i, :, 1:], state)
        state = tuple(s.detach() for s in state)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    step(steps + 1)  # warm-up
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch * seq / (time.perf_counter() - start)


class NaiveCharRNN(nn.Module):
    """The per-time-step loop: an LSTMCell per layer, called once per character."""

    def __init__(self, vocab: int, hidden: int, layers: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.cells = nn.ModuleList(nn.LSTMCell(hidden, hidden) for _ in range(layers))
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state):
        hs, cs = state
        outputs = []
        for t in range(idx.size(1)):
            x = self.embed(idx[:, t])
            new_h, new_c = [], []
            for layer, cell in enumerate(self.cells):
                h, c = cell(x, (hs[layer], cs[layer]))
                new_h.append(h)
                new_c.append(c)
                x = h
            hs, cs = new_h, new_c
            outputs.append(self.head(x))
        return torch.stack(outputs, 1), (hs, cs)


def naive_rate(hidden: int, layers: int, vocab: int, batch: int, seq: int, steps: int) -> float:
    torch.manual_seed(0)
    model = NaiveCharRNN(vocab, hidden, layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.randint(0, vocab, (steps + 2, batch, seq + 1))
    zeros = [torch.zeros(batch, hidden) for _ in range(layers)]
    state = (zeros, [z.clone() for z in zeros])

    def step(i):
        nonlocal state
        logits, state = model(data[i, :, :-1], state)
        state = ([h.detach() for h in state[0]], [c.detach() for c in state[1]])
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), data[i, :, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    step(steps + 1)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch * seq / (time.perf_counter() - start)


def trainer_rate(
    corpus: Path, hidden: int, layers: int, batch: int, seq: int, steps: int, tmp: Path
) -> tuple[float, float]:
    """Loop tokens/s from the run's own metrics (step 10 → last step), and seconds for the
    validation + checkpoint + sample at the end."""
    out = tmp / f"run-{hidden}-{time.monotonic_ns()}"
    config = TrainConfig(
        codec="text",
        corpus=str(corpus),
        out=str(out),
        hidden_size=hidden,
        num_layers=layers,
        dropout=0.0,
        batch_size=batch,
        seq_len=seq,
        max_steps=steps,
        eval_every=steps,
        log_every=max(1, steps // 6),
        progress=False,
        warmup_steps=1,
    )
    fit(config)
    records = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    train = [r for r in records if "train_loss" in r]
    val = [r for r in records if "val_loss" in r][-1]
    first, last = train[0], train[-1]
    rate = (last["step"] - first["step"]) * batch * seq / (last["time"] - first["time"])
    eval_seconds = val["time"] - last["time"]
    return rate, eval_seconds


def sampling_rate(
    model: CharRNN, vocab: list[str], batch: int, length: int, naive: bool, constraint=None
) -> float:
    if naive:
        with torch.inference_mode():
            state = model.initial_state(batch)
            idx = torch.zeros(batch, 1, dtype=torch.long)
            gen = torch.Generator().manual_seed(0)
            start = time.perf_counter()
            for _ in range(length):
                logits, state = model(idx, state)
                idx = torch.multinomial(torch.softmax(logits[:, -1], -1), 1, generator=gen)
            return batch * length / (time.perf_counter() - start)
    config = SampleConfig(num=batch, length=length, seed=0, stop_at_separator=False)
    start = time.perf_counter()
    sample_texts(model, vocab, "\n\n", config, "cpu", constraint)
    return batch * length / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps, for a smoke run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    torch.set_num_threads(torch.get_num_threads())

    tmp = Path(tempfile.mkdtemp(prefix="rnnmusic-bench-"))
    corpus = build_corpus("python-stdlib", get_codec("text"), tmp / "corpus", progress=False)
    vocab_size = len(corpus.vocab)
    gflops = matmul_rate()
    print(f"fp32 matmul: {gflops:.1f} GFLOP/s")

    sizes = [
        (128, 2, 32, 64, 30 if args.quick else 120),
        (512, 2, 50, 100, 4 if args.quick else 12),
    ]
    train_rows, sample_rows = [], []
    for hidden, layers, batch, seq, steps in sizes:
        runs: dict[str, list[float]] = {"ceiling": [], "naive": [], "ours": [], "eval": []}
        for _ in range(rounds):  # interleaved, so load changes hit all three alike
            runs["ceiling"].append(ceiling_rate(hidden, layers, vocab_size, batch, seq, steps))
            runs["naive"].append(naive_rate(hidden, layers, vocab_size, batch, seq, steps))
            ours, eval_seconds = trainer_rate(corpus.path, hidden, layers, batch, seq, steps, tmp)
            runs["ours"].append(ours)
            runs["eval"].append(eval_seconds)
        med = {k: statistics.median(v) for k, v in runs.items()}
        fpt = flops_per_token(hidden, layers, vocab_size)
        train_rows.append(
            [
                f"{layers}×{hidden}",
                f"{batch}×{seq}",
                f"{med['ours']:,.0f}",
                f"{med['ceiling']:,.0f}",
                f"{med['naive']:,.0f}",
                f"{med['ours'] / med['ceiling']:.2f}",
                f"{med['ours'] / med['naive']:.2f}",
                f"{med['ours'] * fpt / 1e9 / gflops:.0%}",
                f"{med['eval']:.1f}",
            ]
        )
        print(train_rows[-1])

        # sampling on the midi-events vocabulary, so --strict has a real grammar to enforce
        codec = get_codec("midi-events")
        model = CharRNN(ModelConfig(len(MIDI_VOCAB), hidden, layers)).eval()
        length = 200 if args.quick else 600
        for batch_size in (1, 64):
            runs = {"ours": [], "strict": [], "naive": []}
            for _ in range(rounds):
                runs["ours"].append(sampling_rate(model, MIDI_VOCAB, batch_size, length, False))
                constraint = codec.constraint(MIDI_VOCAB)
                runs["strict"].append(
                    sampling_rate(model, MIDI_VOCAB, batch_size, length, False, constraint)
                )
                runs["naive"].append(sampling_rate(model, MIDI_VOCAB, batch_size, length, True))
            o, st, n = (statistics.median(runs[k]) for k in ("ours", "strict", "naive"))
            sample_rows.append(
                [
                    f"{layers}×{hidden}",
                    batch_size,
                    f"{o:,.0f}",
                    f"{st:,.0f}",
                    f"{n:,.0f}",
                    f"{o / n:.2f}",
                    f"{1 - st / o:.0%}",
                ]
            )
            print(sample_rows[-1])

    body = "\n\n".join(
        [
            "## Training and sampling speed (`benchmarks/train_speed.py`)",
            f"Machine: {machine()}. fp32 matmul rate measured in the same run: {gflops:.1f} GFLOP/s. "
            f"Median of {rounds} interleaved rounds; corpus: python-stdlib (text codec, vocabulary "
            f"{vocab_size}). *ceiling*: bare fused `nn.LSTM` step on random batches; *naive*: "
            "per-time-step `nn.LSTMCell` loop; *ours*: the trainer's loop (memory-mapped data, state "
            "carry, logging), steady state from its metrics; *eval+ckpt*: seconds for one validation "
            "(40 batches), checkpoint and sample, paid once per `eval_every` steps. *share of "
            "matmul peak*: training FLOPs (3× the forward matmuls) per second over the best "
            "`torch.mm` rate on LSTM-like shapes; above 100% means the fused LSTM's oneDNN kernels "
            "outrun that probe on this CPU, so read the column as relative, not absolute.",
            table(
                [
                    "model",
                    "batch×seq",
                    "ours tok/s",
                    "ceiling tok/s",
                    "naive tok/s",
                    "ours/ceiling",
                    "ours/naive",
                    "share of matmul peak",
                    "eval+ckpt s",
                ],
                train_rows,
            ),
            "Sampling, midi-events vocabulary (tokens/s; ours = `Stepper` cell arithmetic on prepared "
            "weights; strict = ours with the midi-events grammar mask (`generate --strict`); "
            "naive = one `nn.LSTM` call per character):",
            table(
                [
                    "model",
                    "batch",
                    "ours tok/s",
                    "strict tok/s",
                    "naive tok/s",
                    "ours/naive",
                    "strict cost",
                ],
                sample_rows,
            ),
        ]
    )
    if not args.no_write:
        write_section("train_speed", body)
    print(body)


if __name__ == "__main__":
    main()
