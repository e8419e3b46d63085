"""Are samples music like the training pieces? For trained runs of each codec: 100 samples
free and strict with this code, strict with an older checkout (`--before`, to show what a
change to sampling did), and the training pieces, side by side: the music checks `rnnmusic
eval` reports (notes, length, pitch range, voices, bars filling the meter) and more.

    python benchmarks/sample_music.py RUN_DIR [RUN_DIR …] [--num 100] [--before OLD_CHECKOUT]
        [--section NAME]

The older checkout samples in a subprocess (its own code, the same checkpoint and seed); its
texts are judged by this code's statistics so both columns are measured alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from report import machine, table, write_section

from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.corpus import Corpus
from rnnmusic.evaluate import piece_stats, training_pieces
from rnnmusic.music_check import music_checks
from rnnmusic.sample import SampleConfig, generate

SEED = 1
OLD_SAMPLER = """
import json, sys
import rnnmusic.checkpoint as checkpoint
from rnnmusic.codecs import codec_class
from rnnmusic.sample import SampleConfig, generate

def codec(self):  # codec options added since that code was written are left out
    cls = codec_class(self.meta["codec"])
    known = {{option.name for option in cls.OPTIONS}}
    options = self.meta.get("codec_options", {{}})
    return cls(**{{k: v for k, v in options.items() if k in known}})

checkpoint.Checkpoint.codec = codec
run, num, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
texts = generate(run, SampleConfig(num=num, length=length, seed={seed}, strict=True))
json.dump(list(texts), sys.stdout)
"""
SHOWN = [
    ("notes", "notes"),
    ("seconds", "seconds"),
    ("pitch_range", "pitch range (semitones)"),
    ("polyphony", "voices at once"),
    ("notes_per_second", "notes per second"),
    ("all_bars_as_meter", "bars all fill the meter"),
    ("abc2midi_clean", "abc2midi reads without errors"),
]


def sample_before(checkout: Path, run: Path, num: int, length: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONWARNINGS": "ignore"}
    run = run.resolve()
    done = subprocess.run(
        [sys.executable, "-c", OLD_SAMPLER.format(seed=SEED), str(run), str(num), str(length)],
        cwd=checkout,  # `python -c` puts the working folder first on the import path
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout)


def rows_of(codec, texts: list[str]) -> list[dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        return [piece_stats(codec, codec.decode(t), Path(tmp)) for t in texts]


def median(rows: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in rows if key in r]
    if not values:
        return "–"
    if key in ("all_bars_as_meter", "abc2midi_clean"):
        return f"{statistics.fmean(values):.0%}"
    return f"{statistics.median(values):.1f}"


def measure(run: Path, num: int, before: Path | None) -> str:
    ckpt = load_checkpoint(run)
    codec = ckpt.codec()
    length = ckpt.sample_length()
    corpus = Corpus.load(ckpt.info.corpus_path)
    columns: dict[str, list[dict[str, float]]] = {}
    clean: dict[str, str] = {}
    if before is not None:
        texts = sample_before(before, run, num, length)
        columns["strict, before"] = rows_of(codec, texts)
        clean["strict, before"] = _clean(codec, texts)
    for label, strict in (("free", False), ("strict", True)):
        texts = list(generate(ckpt, SampleConfig(num=num, length=length, seed=SEED, strict=strict)))
        columns[label] = rows_of(codec, texts)
        clean[label] = _clean(codec, texts)
    columns["training"] = rows_of(codec, training_pieces(corpus, codec, num))
    clean["training"] = "–"
    rows = [["samples with zero repairs", *clean.values()]]
    for key, label in SHOWN:
        values = [median(columns[c], key) for c in columns]
        if any(v != "–" for v in values):
            rows.append([f"{label} (median)" if "%" not in values[-1] else label, *values])
    checks = music_checks(columns["strict"], columns["training"])
    met = ", ".join(f"{name}: {'met' if c['ok'] else 'MISSED'}" for name, c in checks.items())
    model = ckpt.info.model
    head = (
        f"### `{codec.name}` — {run.name} ({model.num_layers}×"
        f"{model.hidden_size}, step {ckpt.info.step}), {num} samples each\n\n"
    )
    return head + table(["", *columns], rows) + f"\n\nMusic checks (strict): {met}.\n"


def _clean(codec, texts: list[str]) -> str:
    return f"{sum(not codec.decode(t).repairs for t in texts)} / {len(texts)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--num", type=int, default=100)
    parser.add_argument("--before", type=Path, help="an older checkout of rnnmusic")
    parser.add_argument("--section", default="sample_music")
    args = parser.parse_args()
    parts = [measure(run, args.num, args.before) for run in args.runs]
    before = ""
    if args.before is not None:
        commit = subprocess.run(
            ["git", "-C", str(args.before), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        before = f" *strict, before*: the same checkpoint sampled by commit {commit[:120]}."
    intro = (
        f"## Samples as music (`benchmarks/sample_music.py`)\n\nMachine: {machine()}. "
        "Medians over the samples (shares for bars and abc2midi); temperature 1.0, seed "
        f"{SEED}.{before} *training*: evenly spaced training pieces. Command: `python "
        f"benchmarks/sample_music.py {' '.join(str(r) for r in args.runs)} --num {args.num}"
        f"{' --before OLD_CHECKOUT' if args.before else ''}`.\n"
    )
    write_section(args.section, intro + "\n" + "\n".join(parts))
    print("\n".join(parts))


if __name__ == "__main__":
    main()
