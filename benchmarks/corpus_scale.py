"""Peak memory of corpus building and training as the corpus grows (it must stay flat).

Generates text corpora of 20 MB and 200 MB (random paragraphs, so deduplication keeps them),
then measures, each in a fresh process: `rnnmusic corpus build --jobs 2`, and a short `train`
on the built corpus. Peak RSS is the largest resident set of the process and its workers.

    python benchmarks/corpus_scale.py [--sizes 20 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "his",
    "they",
    "be",
    "at",
    "one",
    "have",
    "this",
    "from",
    "or",
    "had",
    "by",
    "hot",
    "word",
    "but",
    "what",
    "some",
    "we",
    "can",
    "out",
    "other",
    "were",
    "all",
    "there",
    "when",
    "up",
    "use",
    "your",
    "how",
    "said",
    "an",
    "each",
    "she",
]

MEASURE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


def generate(folder: Path, megabytes: int, seed: int = 0) -> None:
    """Files of ~10 MB of random paragraphs (8–60 words each)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    words = np.array(WORDS)
    written, index = 0, 0
    while written < megabytes * 1_000_000:
        picks = words[rng.integers(0, len(words), 1_800_000)]
        lengths = rng.integers(8, 60, 60_000)
        cuts = np.cumsum(lengths)
        cuts = cuts[cuts < len(picks)]
        paragraphs = [" ".join(p) for p in np.split(picks, cuts)]
        text = "\n\n".join(paragraphs)
        (folder / f"part{index:03d}.txt").write_text(text, encoding="utf-8")
        written += len(text)
        index += 1


def peak_rss_mb(args: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "rnnmusic", *args],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    kilobytes = int(result.stdout.strip().splitlines()[-1])
    return kilobytes / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rnnmusic-scale-"))
    rows = []
    for size in args.sizes:
        source, corpus = tmp / f"src{size}", tmp / f"corpus{size}"
        generate(source, size)
        build_mb, build_s = peak_rss_mb(
            [
                "corpus",
                "build",
                str(source),
                "--codec",
                "text",
                "-o",
                str(corpus),
                "--jobs",
                "2",
                "--no-progress",
            ]
        )
        tokens = (corpus / "train.bin").stat().st_size
        train_mb, train_s = peak_rss_mb(
            [
                "train",
                "--codec",
                "text",
                "--corpus",
                str(corpus),
                "--out",
                str(tmp / f"run{size}"),
                "--preset",
                "tiny",
                "--max-steps",
                "200",
                "--eval-every",
                "100",
                "--no-progress",
            ]
        )
        rows.append(
            [
                f"{size} MB",
                f"{tokens / 1e6:,.0f} M",
                f"{build_mb:,.0f}",
                f"{build_s:.0f}",
                f"{train_mb:,.0f}",
            ]
        )
        print(rows[-1])
    body = "\n\n".join(
        [
            "## Corpus scale: peak memory (`benchmarks/corpus_scale.py`)",
            f"Machine: {machine()}. Generated text corpora (random paragraphs); `corpus build --jobs 2` "
            "streams pieces to disk and converts them to tokens in 4M-character chunks; training "
            "memory-maps the token file (tiny preset, 200 steps). Peak RSS includes worker processes.",
            table(
                ["corpus", "training tokens", "build peak RSS MB", "build s", "train peak RSS MB"],
                rows,
            ),
        ]
    )
    if not args.no_write:
        write_section("corpus_scale", body)
    print(body)


if __name__ == "__main__":
    main()
