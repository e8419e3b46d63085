"""Human-fingered parts from real tab files, for judging the fingering: Guitar Pro 3-5 files
through PyGuitarPro (every guitar and bass track, as written) and ASCII tabs through the tab
codec's reader. Grace notes, dead notes and harmonics are left out; ties extend their note."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

from rnnmusic.codecs.tab.ascii_reader import read_ascii
from rnnmusic.codecs.tab.fingering_score import HumanPart, part_from_tab
from rnnmusic.codecs.tab.model import TabNote

GP_SUFFIXES = {".gp3", ".gp4", ".gp5", ".gtp"}
TEXT_SUFFIXES = {".txt", ".tab"}
FRETTED_PROGRAMS = range(24, 40)  # General MIDI guitars and basses


def gp_parts(path: Path) -> Iterator[HumanPart]:
    """Every guitar and bass track of a Guitar Pro file, as written."""
    import guitarpro

    song = guitarpro.parse(str(path))
    for number, track in enumerate(song.tracks, 1):
        if track.isPercussionTrack or track.channel.instrument not in FRETTED_PROGRAMS:
            continue
        strings = sorted(track.strings, key=lambda s: -s.number)
        tuning = tuple(s.value for s in strings)
        if not 4 <= len(tuning) <= 7 or min(tuning) <= 0:
            continue
        notes: list[TabNote] = []
        sounding: dict[int, int] = {}  # string → index in notes of its last note
        bar_starts = []
        for measure in track.measures:
            bar_starts.append(measure.start)
            beats = sorted((b for v in measure.voices for b in v.beats), key=lambda b: b.start)
            for beat in beats:
                for note in beat.notes:
                    string = len(tuning) - note.string
                    if not 0 <= string < len(tuning):
                        continue
                    length = beat.duration.time
                    if note.type == guitarpro.NoteType.tie and string in sounding:
                        held = notes[sounding[string]]
                        notes[sounding[string]] = TabNote(
                            held.start, string, held.fret, beat.start + length - held.start
                        )
                    elif note.type == guitarpro.NoteType.normal and not note.effect.isHarmonic:
                        sounding[string] = len(notes)
                        notes.append(TabNote(beat.start, string, note.value, length))
        if notes:
            name = f"{path.name} #{number} {track.name.strip()}"
            yield HumanPart(name, tuning, notes, bar_starts, track.channel.instrument, path)


def text_parts(path: Path) -> Iterator[HumanPart]:
    reading = read_ascii(path.read_text(encoding="utf-8", errors="replace"))
    for index, (tab, name) in enumerate(zip(reading.tabs, reading.names, strict=True), 1):
        part = part_from_tab(tab, f"{path.name} #{index}{' ' + name if name else ''}", path)
        if part.notes:
            yield part


def load(folder: Path, seen: set[str]) -> list[HumanPart]:
    """The folder's parts, less those already seen; unreadable files are reported and skipped."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        reader = (
            gp_parts if suffix in GP_SUFFIXES else text_parts if suffix in TEXT_SUFFIXES else None
        )
        if reader is None:
            continue
        try:
            found = list(reader(path))
        except Exception as exc:  # a test suite holds deliberately broken files
            print(f"skipped {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        for part in found:
            key = hashlib.sha1(
                repr((part.tuning, [(n.string, n.fret) for n in part.notes])).encode()
            ).hexdigest()
            if key not in seen:
                seen.add(key)
                parts.append(part)
    return parts
