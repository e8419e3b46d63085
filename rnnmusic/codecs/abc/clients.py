"""What other ABC readers make of a tune: the notes music21 reads, the errors abc2midi reports,
the notes abc2midi plays. Used by the tests, the round-trip and MIDI agreement measurements
(benchmarks/abc_roundtrip.py, benchmarks/abc_midi_agreement.py) and evaluation."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import mido

NoteEvent = tuple[tuple[int, ...], Fraction]  # sounding MIDI pitches (one, or a chord), duration
Onset = tuple[Fraction, int, int]  # beat (quarter notes from the start), MIDI pitch, channel
ABC2MIDI_LEAD_TICKS = 1  # abc2midi writes every track's first event one tick late

_ABC2MIDI_ERROR = re.compile(r"^Error in line-char (\d+)-(\d+) : (.*)$", re.MULTILINE)


def music21_notes(abc: str) -> list[NoteEvent]:
    """Notes and chords in order as music21 reads one tune (chord symbols left out); raises
    whatever music21 raises on a tune it cannot read."""
    import music21

    score = music21.converter.parseData(abc, format="abc")
    events: list[NoteEvent] = []
    for element in score.flatten().notes:
        if isinstance(element, music21.harmony.ChordSymbol):
            continue
        pitches = tuple(sorted(p.midi for p in element.pitches))
        events.append((pitches, Fraction(element.duration.quarterLength).limit_denominator(256)))
    return events


def abc2midi_available() -> bool:
    return shutil.which("abc2midi") is not None


def abc2midi_midi(abc: str, timeout: float = 30) -> mido.MidiFile | None:
    """The MIDI file abc2midi writes for the first tune of the text (None when it writes none).
    Without -o it would name files after the tunes; with -o it plays the first tune."""
    with tempfile.TemporaryDirectory(prefix="rnnmusic-abc2midi-") as tmp:
        source, target = Path(tmp) / "tune.abc", Path(tmp) / "tune.mid"
        source.write_text(abc, encoding="utf-8")
        subprocess.run(
            ["abc2midi", str(source), "-o", str(target)],
            capture_output=True,
            timeout=timeout,
        )
        if not target.exists():
            return None
        return mido.MidiFile(str(target))


def note_onsets(midi: mido.MidiFile, lead_ticks: int = 0) -> list[Onset]:
    """Every note-on of the file as (beat, pitch, channel), sorted. abc2midi starts each track
    one tick late (`lead_ticks=1` takes that off)."""
    onsets = []
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                beat = Fraction(tick - lead_ticks, midi.ticks_per_beat)
                onsets.append((beat, message.note, message.channel))
    return sorted(onsets)


def abc2midi_onsets(abc: str) -> list[Onset] | None:
    """The notes abc2midi plays for a tune, as (beat, pitch, channel)."""
    midi = abc2midi_midi(abc)
    return None if midi is None else note_onsets(midi, lead_ticks=ABC2MIDI_LEAD_TICKS)


def abc2midi_errors(abc: str, timeout: float = 30) -> list[str]:
    """The `Error in line-char …` messages abc2midi prints for the text (it exits 0 on errors,
    so its output is the only verdict). Warnings are not errors."""
    with tempfile.TemporaryDirectory(prefix="rnnmusic-abc2midi-") as tmp:
        source = Path(tmp) / "tune.abc"
        source.write_text(abc, encoding="utf-8")
        result = subprocess.run(
            ["abc2midi", str(source), "-o", str(Path(tmp) / "tune.mid")],
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
        )
    return [m.group(3) for m in _ABC2MIDI_ERROR.finditer(result.stdout + result.stderr)]


def first_difference(a: list[NoteEvent], b: list[NoteEvent]) -> str:
    """Where two note lists part, in words (for reports of round-trip exceptions)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"note {i + 1}: {_show(x)} became {_show(y)}"
    return f"{len(a)} notes became {len(b)}"


def _show(event: NoteEvent) -> str:
    pitches, length = event
    return f"{'+'.join(map(str, pitches))}×{length}"
