"""Round trip of real Guitar Pro files through the tab codec, note by note.

    python benchmarks/gp_roundtrip.py FOLDER [--json OUT] [--before BEFORE.json] [--source TEXT]
                                             [--no-write]

FOLDER holds .gp3/.gp4/.gp5 files (searched recursively), e.g. the test data of PyGuitarPro
(`tests/`) and alphaTab (`packages/alphatab/test-data/guitarpro3-5`). For every file that
PyGuitarPro reads and whose track the codec picks holds notes ("readable"): file → text →
decode → .gp5 → PyGuitarPro again, and the notes compared as (onset, string, pitch), onsets
exact in whole notes, dead notes at their fret. A file whose notes differ either said why on
the codec's log (reported) or did not (silent). `--json` keeps the per-file results, so that a
run on older code can stand as `--before` next to a run on this one; the script uses only the
codec's public API and PyGuitarPro, so it runs on older versions of the code as well.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import guitarpro as gp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402

from rnnmusic.codecs import get_codec  # noqa: E402
from rnnmusic.codecs.tab.gp import pick_track  # noqa: E402

WHOLE = 4 * gp.Duration.quarterTime
STRUCK = (gp.NoteType.normal, gp.NoteType.dead)


def notes_of(track: gp.Track) -> set[tuple[Fraction, int, int]]:
    """(onset in whole notes from the first bar, string counted from the highest, pitch) of
    every struck note, both voices; a note struck twice at once counts once."""
    tuning = {s.number: s.value for s in track.strings}
    origin = track.measures[0].start if track.measures else 0
    return {
        (Fraction(beat.start - origin, WHOLE), note.string, tuning[note.string] + note.value)
        for measure in track.measures
        for voice in measure.voices
        for beat in voice.beats
        for note in beat.notes
        if note.type in STRUCK and note.string in tuning
    }


class _Remarks(logging.Handler):
    """Collects what the codec logs while it reads one file."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def check(path: Path, folder: Path, scratch: Path) -> dict:
    result = {"file": str(path.relative_to(folder)), "readable": False}
    try:
        song = gp.parse(str(path))
        track = pick_track(song, path, None)
    except Exception as exc:  # unreadable to PyGuitarPro, or no track the codec takes
        result["why"] = f"{type(exc).__name__}: {str(exc)[:80]}"
        return result
    source = notes_of(track)
    if not source:
        result["why"] = "its track holds no notes"
        return result
    result.update(readable=True, notes=len(source))
    remarks = _Remarks()
    logger = logging.getLogger("rnnmusic")
    logger.addHandler(remarks)
    start = time.perf_counter()
    try:
        codec = get_codec("tab")
        texts = codec.encode_file(path)
        piece = codec.decode(texts[0])
        out = scratch / "back.gp5"
        codec.write(piece, out)
        back = notes_of(gp.parse(str(out)).tracks[0])
    except Exception as exc:  # a reader or writer failure is a result too
        result.update(verdict="failed", why=f"{type(exc).__name__}: {str(exc)[:80]}")
        return result
    finally:
        logger.removeHandler(remarks)
    result["seconds"] = time.perf_counter() - start
    result["grid"] = texts[0].split()[0]
    result["missing"] = len(source - back)
    result["extra"] = len(back - source)
    result["remarks"] = remarks.messages
    if back == source:
        result["verdict"] = "exact"
    else:
        result["verdict"] = "reported" if remarks.messages else "silent"
    return result


def summary(results: list[dict]) -> dict:
    readable = [r for r in results if r["readable"]]
    verdicts = Counter(r.get("verdict") for r in readable)
    return {
        "files": len(results),
        "readable": len(readable),
        "exact": verdicts["exact"],
        "reported": verdicts["reported"],
        "silent": verdicts["silent"],
        "failed": verdicts["failed"],
        "notes": sum(r["notes"] for r in readable),
        "missing": sum(r.get("missing", 0) for r in readable),
        "silently_missing": sum(
            r.get("missing", 0) for r in readable if r.get("verdict") != "reported"
        ),
        "seconds": sum(r.get("seconds", 0.0) for r in readable),
    }


def _row(label: str, s: dict) -> list[object]:
    share = s["exact"] / max(1, s["readable"])
    return [
        label,
        f"{s['readable']} of {s['files']}",
        f"**{s['exact']}** ({share:.1%})",
        s["reported"],
        s["silent"] + s["failed"],
        f"{s['missing']:,} of {s['notes']:,}",
        f"{s['silently_missing']:,}",
        f"{s['seconds']:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of .gp3/.gp4/.gp5 files")
    parser.add_argument("--json", type=Path, help="write every file's result here")
    parser.add_argument("--before", type=Path, help="results of a run on older code (--json)")
    parser.add_argument("--before-label", default="before", help="how to name that run")
    parser.add_argument("--source", default="", help="where the files come from, for the report")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args()
    if not args.folder.is_dir():
        parser.exit(2, f"error: {args.folder} is not a folder\n")
    files = sorted(
        p for p in args.folder.rglob("*") if p.suffix.lower() in (".gp3", ".gp4", ".gp5")
    )
    if not files:
        parser.exit(2, f"error: {args.folder} holds no .gp3, .gp4 or .gp5 file\n")
    logging.getLogger("rnnmusic").propagate = False  # remarks are counted, not printed
    with tempfile.TemporaryDirectory() as scratch:
        results = [check(path, args.folder, Path(scratch)) for path in files]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    now = summary(results)
    rows = []
    if args.before:
        rows.append(_row(args.before_label, summary(json.loads(args.before.read_text()))))
    rows.append(_row("this code", now))
    kinds = Counter(p.suffix.lower() for p in files)
    grids = Counter(r["grid"] for r in results if r.get("grid"))
    lines = [
        "## Guitar Pro round trip (`benchmarks/gp_roundtrip.py`)",
        f"Machine: {machine()}. {len(files)} files ("
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f") from {args.source or '`' + args.folder.name + '`'}: file → text → .gp5 → "
        "PyGuitarPro, notes compared as "
        "(onset, string, pitch). *Reported*: the notes differ and the codec said why; *silent*: "
        "they differ without a word (or the round trip failed).",
        table(
            [
                "code",
                "readable files",
                "note-exact",
                "reported",
                "silent",
                "notes changed",
                "changed silently",
                "seconds",
            ],
            rows,
        ),
        "Grids chosen (this code): " + ", ".join(f"{g} × {n}" for g, n in grids.most_common()),
    ]
    different = [r for r in results if r["readable"] and r.get("verdict") != "exact"]
    if different:
        bullets = ["Files that are not note-exact (this code):", ""]
        for r in different:
            remarks = [m.split(": ", 1)[-1] for m in r.get("remarks", [])]  # without the path
            said = "; ".join(remarks) or r.get("why", "no remark")
            bullets.append(f"- `{r['file']}` ({r['verdict']}, {r.get('missing', 0)} notes): {said}")
        lines.append("\n".join(bullets))
    body = "\n\n".join(lines)
    if not args.no_write:
        write_section("gp_roundtrip", body)
    print(body)


if __name__ == "__main__":
    main()
