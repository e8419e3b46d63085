"""Round trip of the abc codec over the built-in folk-abc corpus, judged by real readers.

For every tune: the notes music21 reads from the source text against the notes it reads from the
codec's output (.abc written from decode(encode(tune))), and abc2midi's errors on both (see
rnnmusic/codecs/abc/roundtrip.py). Prints a summary and the exceptions with reasons; `--json FILE`
writes every result. All tunes take ~15 CPU minutes; `--every 40` checks a 1-in-40 sample.

    .venv/bin/python benchmarks/abc_roundtrip.py [--every N] [--jobs J] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections import Counter
from dataclasses import asdict

from rnnmusic.codecs.abc.clients import abc2midi_available
from rnnmusic.codecs.abc.corpus import folk_abc_files
from rnnmusic.codecs.abc.roundtrip import check_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="check one tune in N (a sample)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", default=None, help="write every tune's result here")
    parser.add_argument("--no-abc2midi", action="store_true")
    args = parser.parse_args()
    files = [str(p) for p in folk_abc_files()]
    use_abc2midi = abc2midi_available() and not args.no_abc2midi
    start = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        tasks = [(f, use_abc2midi, args.every) for f in files]
        results = [r for chunk in pool.starmap(check_file, tasks, chunksize=4) for r in chunk]
    verdicts = Counter(r.verdict for r in results)
    read = verdicts["same"] + verdicts["different"] + verdicts["output unreadable"]
    print(f"{len(results)} tunes in {len(files)} files, {time.perf_counter() - start:.0f} s")
    print(", ".join(f"{n} {v}" for v, n in verdicts.most_common()))
    print(
        f"round trip: {verdicts['same']}/{read} = {100 * verdicts['same'] / max(1, read):.2f}% "
        "of the tunes music21 reads give the same notes"
    )
    reasons = Counter(r.detail.rsplit(" (", 1)[0] for r in results if r.verdict == "different")
    for reason, count in reasons.most_common():
        print(f"  {count} × {reason}")
    if use_abc2midi:
        kept = [r for r in results if r.verdict != "skipped"]
        source = sum(r.source_abc2midi_errors > 0 for r in kept)
        output = sum(r.output_abc2midi_errors > 0 for r in kept)
        new = [r for r in kept if r.output_abc2midi_errors > 0 and r.source_abc2midi_errors == 0]
        print(
            f"abc2midi: {source} of {len(kept)} source tunes draw errors, {output} output tunes "
            f"do; {len(new)} output tunes have errors where the source had none"
        )
        for r in new:
            print(f"  NEW ERRORS {r.file} {r.tune}")
    for r in results:
        if r.verdict in ("different", "output unreadable"):
            print(f"  {r.verdict.upper()} {r.file} {r.tune}: {r.detail}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump([asdict(r) for r in results], out, indent=0)


if __name__ == "__main__":
    main()
