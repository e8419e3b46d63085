"""Corpus encoding speed per codec, one worker vs two, side by side in one run.

Each codec encodes (a fixed slice of) its built-in corpus through the same code path
`rnnmusic corpus build` uses; rounds alternate between --jobs 1 and --jobs 2 so machine load
hits both alike.

    python benchmarks/corpus_speed.py [--files 120] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402

from rnnmusic.codecs import available_codecs, get_codec  # noqa: E402
from rnnmusic.encoding_pool import encode_files  # noqa: E402
from rnnmusic.sources import get_source  # noqa: E402


def encode_rate(files: list[Path], codec, jobs: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    pieces = chars = 0
    for _, encoded, _ in encode_files(files, codec, jobs=jobs, progress=False):
        if encoded:
            pieces += len(encoded)
            chars += sum(map(len, encoded))
    seconds = time.perf_counter() - start
    return len(files) / seconds, pieces / seconds, chars


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=120, help="files per codec (a fixed slice)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in available_codecs():
        codec = get_codec(name)
        files = get_source(codec.default_corpus).files()
        step = max(1, len(files) // args.files)
        files = files[::step][: args.files]
        rates: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for jobs in (1, 2):
                files_s, pieces_s, chars = encode_rate(files, codec, jobs)
                rates[jobs].append((files_s, pieces_s))
        one = statistics.median(r[0] for r in rates[1])
        two = statistics.median(r[0] for r in rates[2])
        pieces_one = statistics.median(r[1] for r in rates[1])
        rows.append(
            [
                name,
                codec.default_corpus,
                len(files),
                f"{one:,.1f}",
                f"{two:,.1f}",
                f"{two / one:.2f}",
                f"{pieces_one:,.0f}",
                f"{chars:,}",
            ]
        )
        print(rows[-1])
    body = "\n\n".join(
        [
            "## Corpus encoding speed (`benchmarks/corpus_speed.py`)",
            f"Machine: {machine()}. Every n-th file of each codec's built-in corpus "
            f"(converted sources already cached), median of {args.rounds} alternating rounds.",
            table(
                [
                    "codec",
                    "corpus",
                    "files",
                    "files/s jobs 1",
                    "files/s jobs 2",
                    "jobs 2 / jobs 1",
                    "pieces/s jobs 1",
                    "characters",
                ],
                rows,
            ),
        ]
    )
    if not args.no_write:
        write_section("corpus_speed", body)
    print(body)


if __name__ == "__main__":
    main()
