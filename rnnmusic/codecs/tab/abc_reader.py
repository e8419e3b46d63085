"""ABC tunes as tab: music21 reads each tune, the fingering puts its melody on the strings.

ABC tunes are read the way a guitarist reads a melody in the treble clef: guitar music is written
an octave above its sound, so the tab sounds an octave below the ABC's written pitches (unless
another octave fits the instrument better)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

from rnnmusic.bounded_read import read_bytes
from rnnmusic.codecs.abc.fields import declared_signature
from rnnmusic.codecs.tab.abc_screen import too_hard_for_music21
from rnnmusic.codecs.tab.fingering import (
    PitchedNote,
    finger,
    fit_to_range,
    lower_to_open_position,
    pitch_range,
)
from rnnmusic.codecs.tab.model import DEFAULT_GRID, Tab, choose_grid, signature_fits, tab_from_notes
from rnnmusic.errors import CodecError

GUITAR_OCTAVE = -12  # written treble-clef melody → sounding guitar pitch
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TUNE_CHARS = 20_000  # the longest of music21's 12,949 folk tunes has 2,438
_TUNE_START = re.compile(r"^X:", re.MULTILINE)
_FIELD = re.compile(r"^[A-Za-z]:")
_MUSIC = re.compile(r"^(?![A-Za-z]:|%)\S", re.MULTILINE)


def split_tunes(text: str) -> list[str]:
    """The tunes of an ABC file, each with the file header's fields (L:, M:, K: …) in front."""
    starts = [m.start() for m in _TUNE_START.finditer(text)]
    if not starts:
        return [text] if _MUSIC.search(text) else []
    header = [
        line
        for line in text[: starts[0]].splitlines()
        if _FIELD.match(line) and not line.startswith(("X:", "T:"))
    ]
    tunes = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        lines = text[begin:end].splitlines()
        tunes.append("\n".join([lines[0], *header, *lines[1:]]))
    return tunes


def read_abc_tabs(
    path: str | Path,
    tuning: tuple[int, ...],
    grid: int | None = None,
    open_position: bool = False,
) -> list[Tab]:
    """One Tab per readable tune (each on `grid`, or with None on the coarsest grid from 16 up
    that holds its rhythm); a file with none is a CodecError. `open_position`: a tune above
    open position is played octaves lower (`lower_to_open_position`)."""
    text = _read(path)
    tunes = split_tunes(text)
    if not tunes:
        raise CodecError(path, "holds no ABC tune (no X: field and no music lines)")
    tabs, failures = [], []
    for tune in tunes:
        if len(tune) > MAX_TUNE_CHARS:  # music21 takes seconds per 10,000 characters
            failures.append(f"a tune of {len(tune):,} characters, over {MAX_TUNE_CHARS:,}")
            continue
        too_hard = too_hard_for_music21(tune)
        if too_hard:
            failures.append(too_hard)
            continue
        try:
            tab = tune_to_tab(tune, tuning, grid, open_position)
        except Exception as exc:  # music21 fails in many ways on odd ABC; skip that tune
            said = " ".join(str(exc).split())  # music21 quotes the tune, newlines and all
            failures.append(f"{type(exc).__name__}: {said[:80]}")
            continue
        if tab is not None:
            tabs.append(tab)
    if not tabs:
        why = failures[0] if failures else "no notes"
        raise CodecError(path, f"has no ABC tune music21 can read as a melody ({why})")
    return tabs


def _read(path: str | Path) -> str:
    data = read_bytes(path, MAX_FILE_BYTES, "an ABC file")
    if b"\x00" in data[:4096]:
        raise CodecError(path, "is a binary file, not ABC text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # older ABC collections are Latin-1
    return text.replace("\r\n", "\n").replace("\r", "\n")


def tune_to_tab(
    tune: str, tuning: tuple[int, ...], grid: int | None = None, open_position: bool = False
) -> Tab | None:
    """The first voice of one ABC tune as fingered tab, or None if it has no notes; `grid`
    None picks the coarsest grid from 16 up that holds every onset (triplets: 24 or 48)."""
    import music21

    with warnings.catch_warnings(), _without_beaming():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(tune, format="abc")
    parts = list(getattr(score, "parts", [])) or [score]
    part = parts[0]
    flat = part.flatten()
    if grid is None:
        onsets = {_whole(e.offset) for e in flat.notes if not e.duration.isGrace}
        grid = choose_grid(onsets, fallback=DEFAULT_GRID)
    raw = _melody(flat, grid)
    if not raw:
        return None
    low, high = pitch_range(tuning)
    _, pitches = fit_to_range([p for _, p, _ in raw], low, high, GUITAR_OCTAVE)
    if open_position:
        pitches = lower_to_open_position(pitches, tuning)
    notes = [PitchedNote(s, p, n) for (s, _, n), p in zip(raw, pitches, strict=True)]
    fingered, _ = finger(notes, tuning)
    declared = declared_signature(tune)
    if declared is not None and signature_fits(declared, grid):
        signature = declared  # music21 re-bars a tune whose bars overfill M:, and its meters vary
    else:
        signature = _time_signature(flat, grid)
    bars = _bar_lengths(part, grid)
    return tab_from_notes(fingered, bars, tuning, grid, signature, _tempo(flat))


@contextmanager
def _without_beaming() -> Iterator[None]:
    """music21 spends about three quarters of an ABC parse beaming notes for engraving, which a
    tab never shows; skip it while we parse (the original method is restored afterwards)."""
    from music21 import stream

    original = stream.Stream.makeBeams
    stream.Stream.makeBeams = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        stream.Stream.makeBeams = original  # type: ignore[method-assign]


def _whole(quarters) -> Fraction:
    """music21's offsets (floats, or Fractions for tuplets) in whole notes."""
    return Fraction(quarters).limit_denominator(10_000) / 4


def _steps(quarters: float, grid: int) -> int:
    return round(float(quarters) * grid / 4)


def _melody(flat, grid: int) -> list[tuple[int, int, int]]:
    """(start, pitch, length) in steps; tied notes of one pitch are joined, chord symbols and
    grace notes left out."""
    from music21 import chord, harmony, note

    found: list[tuple[float, int, float]] = []
    last_of_pitch: dict[int, int] = {}  # pitch → index in found of its latest note
    for element in flat.notes:
        if isinstance(element, harmony.Harmony) or element.duration.isGrace:
            continue
        if isinstance(element, note.Note):
            pitches = [element.pitch.midi]
        elif isinstance(element, chord.Chord):
            pitches = [p.midi for p in element.pitches]
        else:
            continue
        offset, length = float(element.offset), float(element.duration.quarterLength)
        tie = element.tie.type if element.tie is not None else None
        for pitch in pitches:
            index = last_of_pitch.get(pitch)
            if tie in ("stop", "continue") and index is not None:
                start, _, held = found[index]
                if abs(start + held - offset) < 1e-6:
                    found[index] = (start, pitch, held + length)
                    continue
            last_of_pitch[pitch] = len(found)
            found.append((offset, pitch, length))
    return [
        (_steps(start, grid), pitch, max(1, _steps(start + length, grid) - _steps(start, grid)))
        for start, pitch, length in found
    ]


def _bar_lengths(part, grid: int) -> list[int]:
    from music21 import stream

    measures = list(part.getElementsByClass(stream.Measure))
    if not measures:
        return []
    starts = [_steps(m.offset, grid) for m in measures]
    last = measures[-1]
    ends = [*starts[1:], _steps(last.offset + last.duration.quarterLength, grid)]
    return [end - start for start, end in zip(starts, ends, strict=True) if end > start]


def _time_signature(flat, grid: int) -> tuple[int, int] | None:
    from music21 import meter

    for ts in flat.getElementsByClass(meter.TimeSignature):
        signature = (ts.numerator, ts.denominator)
        return signature if signature_fits(signature, grid) else None
    return None


def _tempo(flat) -> int | None:
    from music21 import tempo

    for mark in flat.getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm:
            return min(400, max(20, round(bpm)))
    return None
