"""Fingering judged by human tabs: strip the strings and frets from real Guitar Pro and ASCII
tabs, finger the pitches again, count agreement (rnnmusic.codecs.tab.fingering_score).

    python benchmarks/fingering.py FOLDER ... [--cross-validate] [--before REV]

Folders hold .gp3/.gp4/.gp5/.gtp files (read through PyGuitarPro, every guitar and bass track:
MIDI programs 24-39; grace notes, dead notes and harmonics are left out, ties extend their
note) and ASCII tabs (.txt/.tab, read by the tab codec's reader). A part whose strings and
frets repeat one read before (the same test file saved as GP3, GP4 and GP5) is counted once.

Fingerings compared: the naive lowest-fret baseline, the fingering as it was at --before (read
from git; left out when git cannot show it), the fingering now (its weights were fitted on
these very files by benchmarks/fingering_tune.py) and, with --cross-validate, each song
fingered with weights fitted on all the other songs (leave one song out: the figure that
says how the fingering does on tabs it never saw).

The public test files: `git clone https://github.com/Perlence/PyGuitarPro` (tests/) and
`git clone https://github.com/CoderLine/alphaTab` (packages/alphatab/test-data/guitarpro3,
guitarpro4, guitarpro5, audio, conversion).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fingering_tune import UNFITTED, fit_profiles  # noqa: E402
from human_tabs import load  # noqa: E402
from report import machine, table, write_section  # noqa: E402

from rnnmusic.codecs.tab import fingering, fingering_model  # noqa: E402
from rnnmusic.codecs.tab.fingering_score import (  # noqa: E402
    Fingerer,
    HumanPart,
    Score,
    lowest_fret,
    score,
)

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "eb40e53"  # the fingering before issue 21
SONG_NOTES = 500  # a file with this many notes is a song of its own when cross-validating


def fingering_at(revision: str) -> Fingerer | None:
    """The fingering module as it was at a git revision, or None where git cannot show it."""
    try:
        source = subprocess.run(
            ["git", "show", f"{revision}:rnnmusic/codecs/tab/fingering.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType(f"fingering_{revision}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"fingering@{revision}", "exec"), module.__dict__)
    return lambda notes, tuning, program: module.finger(notes, tuning)[0]


def now(notes, tuning, program):
    return fingering.finger(notes, tuning, program=program)[0]


def percent(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f}%"


def groups(parts: list[HumanPart]) -> dict[str, list[HumanPart]]:
    """Parts by song for cross-validation: a file with at least `SONG_NOTES` notes is its own
    group, smaller files are grouped by folder."""
    notes: dict[Path, int] = {}
    for part in parts:
        notes[part.source] = notes.get(part.source, 0) + len(part.notes)
    found: dict[str, list[HumanPart]] = {}
    for part in parts:
        path = part.source
        key = path.name if notes[path] >= SONG_NOTES else f"{label(path.parent)}/ (small files)"
        found.setdefault(key, []).append(part)
    return found


def held_out(grouped: dict[str, list[HumanPart]], rounds: int, without: list[str]):
    """Per group: a fingerer whose weights were fitted on all the other groups."""
    fingerers = {}
    for key in grouped:
        others = [p for k, ps in grouped.items() if k != key for p in ps]
        fitted = fit_profiles(others, rounds, without, log=lambda *_: None)
        print(f"fitted without {key}", file=sys.stderr)

        def fingerer(notes, tuning, program, fitted=fitted):
            profile = fingering_model.profile_for(tuning, program)
            return fingering.finger(notes, tuning, weights=fitted[profile])[0]

        fingerers[key] = fingerer
    return fingerers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--before", default=BEFORE, help="git revision to compare with")
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="also finger each song with weights fitted on the other songs only",
    )
    parser.add_argument("--rounds", type=int, default=3, help="coordinate-descent rounds")
    parser.add_argument(
        "--without",
        default=",".join(UNFITTED),
        help="features held at 0 when fitting (a,b; '' for none)",
    )
    parser.add_argument("--section", default="fingering", help="BENCHMARKS.md section to write")
    parser.add_argument("--totals-only", action="store_true", help="write only the totals")
    parser.add_argument("--sources", default="", help="where the folders come from, for the record")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    fingerers: dict[str, Fingerer] = {"lowest fret": lowest_fret}
    before = fingering_at(args.before)
    if before is not None:
        fingerers[f"before ({args.before})"] = before
    fingerers["now"] = now
    seen: set[str] = set()
    parts = [part for folder in args.folders for part in load(folder, seen)]
    grouped = groups(parts)
    without = [w for w in args.without.split(",") if w]
    fitted_apart = held_out(grouped, args.rounds, without) if args.cross_validate else {}
    rows, totals = [], {}
    for key, members in grouped.items():
        chosen = dict(fingerers)
        if key in fitted_apart:
            chosen["held out"] = fitted_apart[key]
        for name, fingerer in chosen.items():
            total = sum((score(part, fingerer) for part in members), Score())
            totals[name] = totals.get(name, Score()) + total
            rows.append(row(key, len(members), name, total))
            print(rows[-1])
    if args.totals_only:
        rows = []
    for name, total in totals.items():
        rows.append(row("**all**", len(parts), name, total))
        print(rows[-1])
    human = totals["now"]
    held_at_zero = args.without or "nothing"
    body = "\n\n".join(
        [
            "## Fingering against human tabs (`benchmarks/fingering.py`)"
            + ("" if args.without == ",".join(UNFITTED) else f": held at 0 `{held_at_zero}`"),
            f"Machine: {machine()}. Each part's pitches are fingered again and compared with "
            "the strings and frets a person wrote. *now*: the shipped weights, fitted on all "
            "these files (in-sample); *held out*: each song fingered with weights fitted on "
            "the other songs only (files under "
            f"{SONG_NOTES} notes are grouped by folder) — the honest figure. *single*: notes "
            "struck alone; *chord*: notes struck together; *one hand*: chords placed whole "
            f"with fretted notes at most {fingering.MAX_SPAN} frets apart (the human tabs: "
            f"{percent(human_one_hand(human))}); *moved/bar*: frets a lazy hand moves per bar, "
            "the human tab's own figure in brackets; *notes/s*: CPU time of the fingering "
            "alone.",
            f"Command: `python benchmarks/fingering.py {command(args)}`"
            + (f" — {args.sources}" if args.sources else ""),
            table(
                [
                    "song",
                    "parts",
                    "fingering",
                    "notes",
                    "agree",
                    "single",
                    "chord",
                    "one hand",
                    "dropped",
                    "moved/bar",
                    "notes/s",
                ],
                rows,
            ),
        ]
    )
    if not args.no_write:
        write_section(args.section, body)


def human_one_hand(total: Score) -> float:
    return Score.share(total.human_chords_one_hand, total.chords)


def label(folder: Path) -> str:
    try:
        return str(folder.absolute().relative_to(ROOT))
    except ValueError:
        return "/".join(folder.absolute().parts[-2:])


def command(args) -> str:
    options = " --cross-validate" if args.cross_validate else ""
    if args.without != ",".join(UNFITTED):
        options += f" --without '{args.without}'"
    if args.section != "fingering":
        options += f" --section {args.section}"
    if args.totals_only:
        options += " --totals-only"
    return " ".join(label(f) for f in args.folders) + options


def row(song: str, parts: object, name: str, total: Score) -> list[object]:
    return [
        song,
        parts,
        name,
        f"{total.notes:,}",
        percent(total.agreement),
        percent(total.single_agreement),
        percent(total.chord_agreement),
        percent(total.one_hand),
        total.dropped,
        f"{total.shift_per_bar:.1f} ({Score.share(total.human_moved, total.bars):.1f})",
        f"{total.notes_per_second:,.0f}",
    ]


if __name__ == "__main__":
    main()
