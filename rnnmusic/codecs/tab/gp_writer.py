""".gp5 files that Guitar Pro, TuxGuitar, MuseScore and alphaTab open with the notes of the tab.

The grid becomes beats: a new beat wherever a note starts or stops, notes still sounding from an
earlier beat are tied, silence becomes rests, and each span is spelled as the durations (dotted,
triplet, quintuplet) that add up to it (`gp_rhythm`). A bar of more than 100 beats is written as
several measures. `for_guitar_pro` moves the rare onsets no Guitar Pro rhythm can spell; the .mid
writer plays the same tab, so both files hold the same notes.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from pathlib import Path

import guitarpro as gp

from rnnmusic.codecs.tab.alphabet import (
    BEND,
    BEND_RELEASE,
    DEAD,
    FRET_CHARS,
    HARMONIC,
    LEGATO,
    MAX_NUMERATOR,
    MUTED,
    PALM_MUTE,
    REST,
    SIGNATURE_DENOMINATORS,
    SLIDE,
    SUSTAIN,
    VIBRATO,
    bar_signature,
)
from rnnmusic.codecs.tab.gp_rhythm import (
    Written,
    expressible_steps,
    measure_cuts,
    span_durations,
    tuplet_windows,
)
from rnnmusic.codecs.tab.model import Column, Tab, TabNote, tab_from_notes

BASS_BELOW = 35  # a lowest string below B1 makes the track a bass
PROGRAM_GUITAR, PROGRAM_BASS = 25, 33  # steel-string guitar, fingered bass


def statable(length: Fraction) -> bool:
    """True when a Guitar Pro time signature states a measure of this many whole notes."""
    return any(
        (length * den).denominator == 1 and 1 <= length * den <= MAX_NUMERATOR
        for den in SIGNATURE_DENOMINATORS
    )


def signature_of(length: Fraction) -> tuple[int, int]:
    for den in SIGNATURE_DENOMINATORS:
        num = length * den
        if num.denominator == 1 and 1 <= num <= MAX_NUMERATOR:
            return int(num), den
    raise ValueError(f"no time signature states {length} whole notes")


# -- onsets Guitar Pro can spell ------------------------------------------------------------


def for_guitar_pro(tab: Tab) -> tuple[Tab, int]:
    """The tab with every note start and end where a Guitar Pro rhythm can put it, and how many
    notes moved. Grids that divide 64, 96 or 80 never need a move (64ths, 64th triplets, 64th
    quintuplets); finer ones, and those with both 3 and 5 in them, can: a step may need a
    128th, or one window a triplet and a quintuplet at once. Moving a start can shorten a note
    into a new boundary, so this repeats; bars still unwritable after a few rounds have their
    boundaries put on the plain note values of the grid."""
    if any(fine % tab.grid == 0 for fine in (64, 96, 80)):
        return tab, 0
    original = tab.notes()
    for attempt in range(MOVE_ROUNDS + 1):
        moves: dict[int, int] = {}
        for first, last, notes in _bars_with_notes(tab):
            inside = {n.start - first for n in notes if n.start < last}
            inside |= {n.end - first for n in notes if first < n.end < last}
            if attempt < MOVE_ROUNDS:
                local = expressible_steps(sorted(inside), tab.grid, last - first)
            else:
                local = _plain_steps(sorted(inside), tab.grid, last - first)
            moves.update({first + a: first + b for a, b in local.items()})
        if not moves:
            break
        shortest = 1 if attempt < MOVE_ROUNDS else tab.grid // gcd(tab.grid, 64)
        tab = _moved(tab, moves, shortest)
    kept = {(n.start, n.string) for n in tab.notes()}
    return tab, sum((n.start, n.string) not in kept for n in original)


MOVE_ROUNDS = 3


def _bars_with_notes(tab: Tab):
    """(first step, step after the last, notes starting or ending inside) for each bar."""
    notes = sorted(tab.notes(), key=lambda n: n.start)
    starts = [n.start for n in notes]
    for first, bar in zip(tab.bar_starts(), tab.bars, strict=True):
        last = first + len(bar)
        inside = notes[bisect_left(starts, first) : bisect_left(starts, last)]
        # notes that started earlier but end in this bar (held across the bar line)
        inside += [n for n in notes[: bisect_left(starts, first)][-tab.strings :] if n.end > first]
        yield first, last, inside


def _plain_steps(steps: list[int], grid: int, bar_steps: int) -> dict[int, int]:
    """Every boundary of a bar that tuplet_windows cannot place, on the nearest plain value."""
    if tuplet_windows([Fraction(s, grid) for s in steps], Fraction(bar_steps, grid)) is not None:
        return {}
    unit = grid // gcd(grid, 64)
    return {s: min(bar_steps, round(s / unit) * unit) for s in steps if s % unit}


def _moved(tab: Tab, moves: dict[int, int], shortest: int) -> Tab:
    """The tab with note starts and ends moved; a note that would vanish lasts `shortest`."""
    notes = []
    for note in tab.notes():
        begin, end = moves.get(note.start, note.start), moves.get(note.end, note.end)
        length = end - begin if end > begin else shortest
        notes.append(TabNote(begin, note.string, note.fret, length, note.mark))
    bars = [len(bar) for bar in tab.bars]
    return tab_from_notes(notes, bars, tab.tuning, tab.grid, tab.time_signature, tab.tempo)


# -- the beats of a bar ---------------------------------------------------------------------


@dataclass
class _Span:
    """A stretch of a bar in which the same notes sound: one beat, or tied beats when no single
    duration fits."""

    start: int
    length: int
    strikes: dict[int, tuple[str, str]]  # string → (cell, mark) struck at the span's start
    held: dict[int, str]  # string → fret char still sounding from before


def _spans(bar: list[Column], strings: int, sounding: dict[int, str]) -> list[_Span]:
    """Cut a bar where notes start or stop; `sounding` (string → fret char) carries over bars."""
    spans: list[_Span] = []
    for step, column in enumerate(bar):
        strikes, held = {}, {}
        for s in range(strings):
            cell = column.cells[s]
            if cell in FRET_CHARS or cell == DEAD:
                strikes[s] = (cell, column.marks[s])
                sounding[s] = cell
            elif cell == SUSTAIN and s in sounding:
                held[s] = sounding[s]
            elif cell == REST:
                sounding.pop(s, None)
        same = spans and not strikes and set(held) == set(spans[-1].strikes) | set(spans[-1].held)
        if same:
            spans[-1].length += 1
        else:
            spans.append(_Span(step, 1, strikes, held))
    return spans


@dataclass
class _Beat:
    start: Fraction  # whole notes from the bar's start
    written: Written
    span: _Span
    first: bool  # the first beat of its span (strikes happen here; later beats tie)


def _bar_beats(bar: list[Column], tab: Tab, sounding: dict[int, str]):
    grid = tab.grid
    length = Fraction(len(bar), grid)
    spans = _spans(bar, tab.strings, sounding)
    boundaries = [Fraction(span.start, grid) for span in spans]
    windows = tuplet_windows(boundaries, length)
    if windows is None:  # for_guitar_pro moved such onsets; a caller that skipped it
        raise ValueError("a bar needs a triplet and a quintuplet in one window")
    beats: list[_Beat] = []
    for span in spans:
        position = Fraction(span.start, grid)
        end = Fraction(span.start + span.length, grid)
        for index, written in enumerate(span_durations(position, end, windows)):
            beats.append(_Beat(position, written, span, index == 0))
            position += written.length
    cuts = measure_cuts([b.start for b in beats], length, windows, statable) or []
    return beats, [Fraction(0), *cuts, length]


# -- the file -------------------------------------------------------------------------------


def write_gp5(tab: Tab, path: str | Path, title: str = "") -> None:
    """Write the tab (after `for_guitar_pro`) as a Guitar Pro 5.1 file with one track."""
    song = gp.Song()
    song.title = title
    song.tempo = tab.tempo or 120
    song.measureHeaders = []
    track = gp.Track(song)
    bass = min(tab.tuning) < BASS_BELOW
    track.name = "Bass" if bass else "Guitar"
    track.channel.instrument = PROGRAM_BASS if bass else PROGRAM_GUITAR
    strings = tab.strings
    track.strings = [gp.GuitarString(strings - i, p) for i, p in enumerate(tab.tuning)][::-1]
    track.fretCount = max([24, *(n.fret or 0 for n in tab.notes())])
    track.measures = []
    song.tracks = [track]
    start_ticks = gp.Duration.quarterTime
    sounding: dict[int, str] = {}
    last_note: dict[int, gp.Note] = {}
    for bar in tab.bars:
        beats, edges = _bar_beats(bar, tab, sounding)
        nominal = bar_signature(len(bar), tab.grid, tab.time_signature)
        for begin, end in zip(edges, edges[1:], strict=False):
            header = gp.MeasureHeader(number=len(song.measureHeaders) + 1, start=start_ticks)
            whole_bar = begin == 0 and end == edges[-1]
            num, den = nominal if whole_bar and nominal else signature_of(end - begin)
            header.timeSignature = gp.TimeSignature(num, gp.Duration(value=den))
            song.addMeasureHeader(header)
            measure = gp.Measure(track, header)
            track.measures.append(measure)
            voice = measure.voices[0]
            for beat in beats:
                if begin <= beat.start < end:
                    _write_beat(voice, beat, strings, last_note)
            start_ticks += header.length
    first = track.measures[0].voices[0].beats
    if first and tab.tempo:
        first[0].effect.mixTableChange = gp.MixTableChange(
            tempo=gp.MixTableItem(value=tab.tempo, duration=0)
        )
    gp.write(song, str(path), version=(5, 1, 0))


def _duration(written: Written) -> gp.Duration:
    duration = gp.Duration(value=written.value, isDotted=written.dotted)
    if written.tuplet != (1, 1):
        duration.tuplet = gp.Tuplet(*written.tuplet)
    return duration


def _write_beat(voice: gp.Voice, beat: _Beat, strings: int, last_note: dict) -> None:
    out = gp.Beat(voice, duration=_duration(beat.written))
    voice.beats.append(out)
    span = beat.span
    if not span.strikes and not span.held:
        out.status = gp.BeatStatus.rest
        return
    out.status = gp.BeatStatus.normal
    for s, cell in span.held.items():
        out.notes.append(_tie(out, s, cell, strings, last_note))
    for s, (cell, mark) in span.strikes.items():
        if beat.first:
            out.notes.append(_strike(out, s, cell, mark, strings, last_note))
        else:  # later beats of a span hold the struck note
            out.notes.append(_tie(out, s, cell, strings, last_note))
    out.notes.sort(key=lambda n: n.string)


def _fret(cell: str) -> int:
    return 0 if cell == DEAD else FRET_CHARS.index(cell)


def _tie(beat, s: int, cell: str, strings: int, last_note: dict) -> gp.Note:
    note = gp.Note(beat, value=_fret(cell), string=strings - s, type=gp.NoteType.tie)
    last_note[s] = note
    return note


def _strike(beat, s: int, cell: str, mark: str, strings: int, last_note: dict) -> gp.Note:
    dead = cell == DEAD or mark == MUTED
    note = gp.Note(
        beat,
        value=_fret(cell),
        string=strings - s,
        type=gp.NoteType.dead if dead else gp.NoteType.normal,
    )
    effect = note.effect
    previous = last_note.get(s)
    if mark == LEGATO and previous is not None:
        previous.effect.hammer = True
    elif mark == SLIDE:
        if previous is not None and previous.type != gp.NoteType.dead:
            previous.effect.slides = [*previous.effect.slides, gp.SlideType.shiftSlideTo]
        else:
            effect.slides = [gp.SlideType.intoFromBelow]
    elif mark == BEND:
        effect.bend = gp.BendEffect(
            type=gp.BendType.bend,
            value=100,
            points=[gp.BendPoint(0, 0), gp.BendPoint(6, 4), gp.BendPoint(12, 4)],
        )
    elif mark == BEND_RELEASE:
        effect.bend = gp.BendEffect(
            type=gp.BendType.bendRelease,
            value=100,
            points=[
                gp.BendPoint(0, 0),
                gp.BendPoint(3, 4),
                gp.BendPoint(6, 4),
                gp.BendPoint(9, 0),
                gp.BendPoint(12, 0),
            ],
        )
    elif mark == VIBRATO:
        effect.vibrato = True
    elif mark == PALM_MUTE:
        effect.palmMute = True
    elif mark == HARMONIC:
        effect.harmonic = gp.NaturalHarmonic()
    last_note[s] = note
    return note
