"""Model quality per codec: the `small` preset trained for at most 30 minutes on the codec's
built-in corpus, then `rnnmusic eval` with and without grammar-constrained sampling.

    python benchmarks/quality.py --codec midi-events [--minutes 30] [--run RUN_DIR] [--skip-train]

Validation bits per character (whole held-out split) stand next to the interpolated Kneser-Ney
n-gram baseline on the same split; samples are 100 pieces at temperature 1.0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402


def rnnmusic(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "rnnmusic", *args], check=True)


def evaluate(run: Path, strict: bool, reuse: bool) -> dict:
    target = run / f"eval-{'strict' if strict else 'free'}.json"
    if not (reuse and target.exists()):
        rnnmusic("eval", str(run), "--num", "100", "--strict" if strict else "--no-strict")
        shutil.copy(run / "eval.json", target)
    return json.loads(target.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codec", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--run", default=None, help="run folder (default runs/quality-CODEC)")
    parser.add_argument("--skip-train", action="store_true", help="evaluate an existing run")
    parser.add_argument("--reuse", action="store_true", help="keep eval-free/strict.json found")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    run = Path(args.run or f"runs/quality-{args.codec}")
    if not args.skip_train:
        rnnmusic(
            "train",
            "--codec",
            args.codec,
            "--preset",
            "small",
            "--max-minutes",
            str(args.minutes),
            "--out",
            str(run),
            "--no-progress",
        )
    results = {mode: evaluate(run, mode == "strict", args.reuse) for mode in ("free", "strict")}
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    speeds = [m["tokens_per_s"] for m in metrics if "tokens_per_s" in m]
    free, strict = results["free"], results["strict"]
    summary = table(
        ["", "value"],
        [
            [
                "training",
                f"{free['step']:,} steps in ≤ {args.minutes:g} min, median "
                f"{sorted(speeds)[len(speeds) // 2]:,.0f} tokens/s",
            ],
            ["validation bits/char (LSTM)", f"{free['valid_bpc']:.3f}"],
            [
                "validation bits/char (Kneser-Ney n-gram)",
                f"{free['ngram_bpc']:.3f} (order {free['ngram_order']})",
            ],
            [
                "samples with zero repairs, free / strict",
                f"{free['samples_clean']} / {free['samples']}, "
                f"{strict['samples_clean']} / {strict['samples']}",
            ],
            [
                "repairs per 1,000 characters, free / strict",
                f"{free['repairs_per_1000_chars']:.2f} / {strict['repairs_per_1000_chars']:.2f}",
            ],
            [
                "32-character windows found in the training text, free / strict",
                f"{free['copy_rate_32']:.1%} / {strict['copy_rate_32']:.1%}",
            ],
        ],
    )
    stat_rows = []
    training = strict["stats"]["training"]
    for key in sorted(set(training) | set(strict["stats"]["samples"])):
        row = [key]
        for source in (free["stats"]["samples"], strict["stats"]["samples"], training):
            row.append(f"{source[key]:.2f}" if key in source else "–")
        stat_rows.append(row)
    body = "\n\n".join(
        [
            f"## Quality: `{args.codec}` (`benchmarks/quality.py`)",
            f"Machine: {machine()}. `small` preset (2×256 LSTM) on the codec's built-in corpus, "
            "100 samples at temperature 1.0; *free* = `--no-strict`, *strict* = grammar-constrained.",
            summary,
            "Music statistics, mean per piece (samples free, samples strict, training pieces):",
            table(["statistic", "free", "strict", "training"], stat_rows),
        ]
    )
    if not args.no_write:
        write_section(f"quality_{args.codec}", body)
    print(body)


if __name__ == "__main__":
    main()
