"""What `generate --strict` costs, per codec: sampling tokens/s with and without the grammar mask
(same model, same batch, interleaved rounds), and the seconds to build the constraint when
sampling starts.

    python benchmarks/strict_cost.py [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402
from train_speed import MIDI_VOCAB, sampling_rate  # noqa: E402

from rnnmusic.codecs import get_codec  # noqa: E402
from rnnmusic.model import CharRNN, ModelConfig  # noqa: E402

VOCABS = {  # the characters of each codec's built-in corpus
    "midi-events": MIDI_VOCAB,
    "tab": sorted(set("-=x0123456789abcdefghijklmno.:|\nhbr/~m*gqt #ABCDEFG")),
    "abc": sorted(
        set("\n !\"#'(),-./0123456789:<=>ABCDEFGHKLMRSTZ[]^_abcdefghijklmnoprstuvwxyz{|}~")
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--length", type=int, default=600)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for name, vocab in VOCABS.items():
        codec = get_codec(name)
        started = time.perf_counter()
        constraint = codec.constraint(vocab)
        constraint.reset(1, torch.device("cpu"))
        build = time.perf_counter() - started
        torch.manual_seed(0)
        model = CharRNN(ModelConfig(len(vocab), 256, 2)).eval()  # the `small` preset's size
        for batch in (1, 64):
            runs: dict[str, list[float]] = {"free": [], "strict": []}
            for _ in range(args.rounds):
                runs["free"].append(sampling_rate(model, vocab, batch, args.length, False))
                runs["strict"].append(
                    sampling_rate(model, vocab, batch, args.length, False, constraint)
                )
            free, strict = (statistics.median(runs[k]) for k in ("free", "strict"))
            rows.append(
                [
                    name,
                    batch,
                    f"{free:,.0f}",
                    f"{strict:,.0f}",
                    f"{1 - strict / free:.0%}",
                    f"{build:.2f}",
                ]
            )
            print(rows[-1])
    body = "\n\n".join(
        [
            "## Cost of grammar-constrained sampling (`benchmarks/strict_cost.py`)",
            f"Machine: {machine()}. A 2×256 LSTM (the `small` preset) sampling {args.length} "
            f"characters per piece with the codec's corpus vocabulary; median of {args.rounds} "
            "interleaved rounds. *strict cost*: tokens/s lost to the mask (target: under 25% at "
            "batch 64); *build*: seconds to compile the codec's constraint, paid once per "
            "`generate`, not counted in the rates.",
            table(["codec", "batch", "free tok/s", "strict tok/s", "strict cost", "build s"], rows),
        ]
    )
    if not args.no_write:
        write_section("strict_cost", body)
    print(body)


if __name__ == "__main__":
    main()
