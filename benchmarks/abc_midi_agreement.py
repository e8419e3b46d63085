"""ABC → MIDI against abc2midi: how many tunes the abc codec writes note-exact, before (through
music21, the old writer) and after (the codec's own player, rnnmusic/codecs/abc/play/).

Each tune is read by the abc codec; abc2midi plays the codec's `.abc` text of it, and the two
MIDI files are compared note by note as (beat, pitch) (agreement.py). The folk corpus (every
tune music21 ships, the codec's default corpus) and, with `--outside DIR`, another folder of
.abc files. The music21 path takes about a second a tune, so it runs on a one-in-N sample
(`--before-every`); the player runs on every tune. Writes the `abc_midi_agreement` section of
BENCHMARKS.md with `--write`.

    .venv/bin/python benchmarks/abc_midi_agreement.py --outside DIR [--before-every 20]
        [--jobs 2] [--write]
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import mido
from report import machine, table, write_section

from rnnmusic.codecs.abc.agreement import (
    abc2midi_notes,
    corpus_tunes,
    first_difference,
    notes_of,
    player_notes,
    tune_abc,
)
from rnnmusic.codecs.abc.clients import note_onsets
from rnnmusic.codecs.abc.corpus import folk_abc_files
from rnnmusic.codecs.abc.play import midi_file, perform
from rnnmusic.codecs.abc.roundtrip import in_sample


def music21_midi(abc: str, path: Path) -> None:
    """The writer the abc codec used before: music21, and where it fails the notes as
    notated, without repeats."""
    import music21

    try:
        music21.converter.parseData(abc, format="abc").write("midi", fp=str(path))
        return
    except Exception:  # music21 raises many types from deep inside its MIDI translation
        pass
    score = music21.converter.parseData(abc, format="abc")
    out = music21.stream.Score()
    for part in score.parts or [score]:
        flat = music21.stream.Part()
        for element in part.flatten().notesAndRests:
            if not isinstance(element, music21.harmony.ChordSymbol):
                flat.insert(element.offset, copy.deepcopy(element))
        out.insert(0, flat)
    out.write("midi", fp=str(path))


def unended(midi: mido.MidiFile) -> int:
    """Notes that start and never stop."""
    sounding: Counter[tuple[int, int]] = Counter()
    for track in midi.tracks:
        for message in track:
            if message.type == "note_on" and message.velocity > 0:
                sounding[(message.channel, message.note)] += 1
            elif message.type in ("note_on", "note_off"):
                key = (message.channel, message.note)
                sounding[key] = max(0, sounding[key] - 1)
    return sum(sounding.values())


def check_file(task: tuple[str, str, int]) -> list[dict]:
    """Every tune of one file: abc2midi, the player, and (when sampled) the music21 path."""
    collection, path, before_every = task
    return [
        check(collection, item, in_sample(path, index, before_every))
        for index, item in enumerate(corpus_tunes([path]))
    ]


def check(collection: str, item, before: bool) -> dict:
    result = {"collection": collection, "label": f"{Path(item.file).name} {item.label}"}
    if item.tune is None:
        return {**result, "left_out": item.left_out}
    tune = item.tune
    started = time.perf_counter()
    reference = abc2midi_notes(tune)
    result["abc2midi_s"] = time.perf_counter() - started
    if reference is None:
        return {**result, "after": "abc2midi wrote no file"}
    started = time.perf_counter()
    ours = player_notes(tune)
    result["player_s"] = time.perf_counter() - started
    result["after"] = first_difference(reference, ours) or "same"
    result["after_unended"] = unended(midi_file(perform(tune)))
    if before:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "tune.mid"
            started = time.perf_counter()
            try:
                music21_midi(tune_abc(tune), target)
                midi = mido.MidiFile(str(target))
            except Exception as exc:  # music21 cannot write the tune at all
                result["before"] = f"music21 fails: {type(exc).__name__}"
            else:
                result["music21_s"] = time.perf_counter() - started
                result["before"] = first_difference(reference, notes_of(note_onsets(midi)))
                result["before"] = result["before"] or "same"
                result["before_unended"] = unended(midi)
    return result


def share(results: list[dict], key: str) -> tuple[int, int]:
    judged = [r for r in results if key in r]
    return sum(r[key] == "same" for r in judged), len(judged)


def percent(same: int, total: int) -> str:
    return f"{same:,}/{total:,} = {100 * same / max(1, total):.2f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outside", default=None, help="a folder of .abc files from elsewhere")
    parser.add_argument("--outside-name", default="outside collection")
    parser.add_argument("--outside-source", default="", help="where the folder came from")
    parser.add_argument("--before-every", type=int, default=20, help="music21 on one tune in N")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    version = subprocess.run(["abc2midi", "-ver"], capture_output=True, text=True).stdout
    version = version.strip().removesuffix("abc2midi").strip()
    collections = {"folk corpus (folk-abc)": folk_abc_files()}
    if args.outside:
        collections[args.outside_name] = sorted(Path(args.outside).glob("*.abc"))
    work = [(name, str(p), args.before_every) for name, paths in collections.items() for p in paths]
    work.sort(key=lambda task: -Path(task[1]).stat().st_size)  # the big files first
    started = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        results = [r for chunk in pool.imap_unordered(check_file, work) for r in chunk]
    seconds = time.perf_counter() - started
    rows, lines = [], []
    for name in collections:
        mine = [r for r in results if r["collection"] == name]
        left_out = Counter(r["left_out"] for r in mine if "left_out" in r)
        after, before = share(mine, "after"), share(mine, "before")
        hanging = sum(r.get("before_unended", 0) > 0 for r in mine)
        ours_hanging = sum(r.get("after_unended", 0) > 0 for r in mine)
        rows.append(
            [
                name,
                f"{len(mine):,} ({sum(left_out.values())} left out)",
                percent(*before),
                f"{hanging}/{before[1]}",
                percent(*after),
                f"{ours_hanging}/{after[1]}",
            ]
        )
        for r in mine:
            if r.get("after", "same") != "same":
                lines.append(f"- {name}: {r['label']}: {r['after']}")
        for reason, count in left_out.items():
            lines.append(f"- {name}: {count} tune(s) left out by the codec: {reason}")
    medians = {
        key: statistics.median(values)
        for key in ("player_s", "abc2midi_s", "music21_s")
        if (values := [r[key] for r in results if key in r])
    }
    timing = [f"this player {1000 * medians['player_s']:.1f} ms"]
    for key, what in (("abc2midi_s", "abc2midi (one process a tune)"), ("music21_s", "music21")):
        if key in medians:
            ratio = medians[key] / medians["player_s"]
            timing.append(f"{what} {1000 * medians[key]:.1f} ms ({ratio:.0f}×)")
    source = f" {args.outside_name}: {args.outside_source}." if args.outside_source else ""
    body = "\n".join(
        [
            "## ABC → MIDI against abc2midi (`benchmarks/abc_midi_agreement.py`)",
            "",
            f"abc2midi {version}; every tune read by the abc codec and played from the "
            "codec's `.abc` text by both; note-exact = the same (beat, pitch) multiset. "
            f"Before: the music21 writer the codec used, on one tune in {args.before_every} of "
            f"each collection.{source} {machine()}.",
            "",
            table(
                [
                    "collection",
                    "tunes",
                    "before: music21 path note-exact",
                    "before: files with notes that never end",
                    "after: this player note-exact",
                    "after: files with notes that never end",
                ],
                rows,
            ),
            "",
            "Median time to play a tune: " + ", ".join(timing) + f"; {seconds:.0f} s in all.",
            "",
            *(lines or ["Every tune the codec keeps is note-exact."]),
        ]
    )
    print(body)
    if args.write:
        write_section("abc_midi_agreement", body)


if __name__ == "__main__":
    main()
