"""Guitar Pro 3/4/5 files through PyGuitarPro: exact rhythm, tuning and techniques in, and .gp5
files out that Guitar Pro, TuxGuitar and MuseScore open.

Reading keeps both voices of one track, quantised to the grid. Writing turns the grid back into
beats: a new beat wherever a note starts or stops, notes still sounding from an earlier beat are
tied, silence becomes rests, and each span is written as the durations (dotted, triplet) that
add up to it.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import guitarpro as gp

from rnnmusic.bounded_read import read_bytes
from rnnmusic.codecs.tab.grammar import bar_signature
from rnnmusic.codecs.tab.model import (
    BEND,
    BEND_RELEASE,
    DEAD,
    FRET_CHARS,
    HARMONIC,
    LEGATO,
    MARK_PRIORITY,
    MAX_FRET,
    MAX_STRINGS,
    MIN_STRINGS,
    NO_MARK,
    PALM_MUTE,
    REST,
    SLIDE,
    SUSTAIN,
    VIBRATO,
    Tab,
    TabNote,
    signature_fits,
    tab_from_notes,
)
from rnnmusic.errors import CodecError

WHOLE = 4 * gp.Duration.quarterTime  # ticks in a whole note
MAX_GP_BYTES = 32 * 1024 * 1024  # Guitar Pro files are small; anything this big is not one
# The version strings Guitar Pro 3-5 write at the start of a file (after a length byte), all of
# which PyGuitarPro reads; other versions of Guitar Pro write other strings.
READABLE_VERSIONS = (
    "FICHIER GUITAR PRO v3.00",
    "FICHIER GUITAR PRO v4.00",
    "FICHIER GUITAR PRO v4.06",
    "FICHIER GUITAR PRO L4.06",
    "CLIPBOARD GUITAR PRO 4.0 [c6]",
    "FICHIER GUITAR PRO v5.00",
    "FICHIER GUITAR PRO v5.10",
    "CLIPBOARD GP 5.0",
    "CLIPBOARD GP 5.1",
    "CLIPBOARD GP 5.2",
)
_MAGIC_PREFIXES = (b"FICHIER GUITAR PRO", b"FICHIER GUITARE PRO", b"CLIPBOARD")
SAVE_AS_GP5 = "open it in Guitar Pro or TuxGuitar and save it as .gp5"
_LEGATO_SLIDES = (gp.SlideType.shiftSlideTo, gp.SlideType.legatoSlideTo)
_INTO_SLIDES = (gp.SlideType.intoFromBelow, gp.SlideType.intoFromAbove)


# -- reading --------------------------------------------------------------------------------


def check_gp_file(path: str | Path) -> bytes:
    """The file's bytes, or a CodecError unless it starts like a Guitar Pro 3-5 file. Run
    before handing a file to anything else: a truncated or foreign file can crash other
    programs."""
    path = Path(path)
    data = read_bytes(path, MAX_GP_BYTES, "a Guitar Pro file")
    head = data[:31]
    if head.startswith(b"PK\x03\x04"):
        raise CodecError(
            path,
            f"is a zip archive (a Guitar Pro 7 .gp file?), not a Guitar Pro 3-5 file; {SAVE_AS_GP5}",
        )
    if head.startswith((b"BCFZ", b"BCFS")):
        raise CodecError(
            path, f"is a Guitar Pro 6 file, which the tab codec cannot read; {SAVE_AS_GP5}"
        )
    version = head[1 : 1 + min(head[0], 30)] if head else b""
    if not version.startswith(_MAGIC_PREFIXES):
        raise CodecError(path, "is not a Guitar Pro 3-5 file (its header is missing)")
    name = version.decode("latin-1")
    if name not in READABLE_VERSIONS:
        raise CodecError(
            path,
            f"is a Guitar Pro file of a version the tab codec cannot read ({name!r}; it reads "
            f"Guitar Pro 3, 4 and 5); {SAVE_AS_GP5}",
        )
    return data


def parse_gp(path: str | Path) -> gp.Song:
    data = check_gp_file(path)
    try:
        return gp.parse(io.BytesIO(data))
    except Exception as exc:  # struct errors, EOF, bad enums: the file is damaged
        raise CodecError(
            path, f"is a truncated or damaged Guitar Pro file ({type(exc).__name__})"
        ) from None


def pick_track(song: gp.Song, path: str | Path, track: int | None) -> gp.Track:
    """`track` counts from 1; by default the first guitar (six or seven strings), else the
    first pitched track with a tuning we can write (a bass, say)."""
    if track is not None:
        if not 1 <= track <= len(song.tracks):
            raise CodecError(path, f"has {len(song.tracks)} tracks, so --track {track} is not one")
        chosen = song.tracks[track - 1]
        if chosen.isPercussionTrack or chosen.channel.isPercussionChannel:
            raise CodecError(path, f"track {track} ({chosen.name}) is a drum track, not a tab")
        if not MIN_STRINGS <= len(chosen.strings) <= MAX_STRINGS:
            raise CodecError(path, f"track {track} has {len(chosen.strings)} strings")
        return chosen
    pitched = [
        t
        for t in song.tracks
        if not (t.isPercussionTrack or t.channel.isPercussionChannel)
        and MIN_STRINGS <= len(t.strings) <= MAX_STRINGS
    ]
    guitars = [t for t in pitched if len(t.strings) >= 6]
    if not pitched:
        raise CodecError(path, "has no guitar or bass track (only drums or odd string counts)")
    return (guitars or pitched)[0]


def _mark(note: gp.Note, beat: gp.Beat) -> str:
    effect = note.effect
    found = set()
    if any(s in _INTO_SLIDES for s in effect.slides):
        found.add(SLIDE)
    if effect.isBend:
        found.add(BEND_RELEASE if effect.bend.type == gp.BendType.bendRelease else BEND)
    if isinstance(effect.harmonic, gp.NaturalHarmonic):
        found.add(HARMONIC)
    if effect.vibrato or beat.effect.vibrato:
        found.add(VIBRATO)
    if effect.palmMute:
        found.add(PALM_MUTE)
    return next((m for m in MARK_PRIORITY if m in found), NO_MARK)


def read_gp_tab(path: str | Path, grid: int, track: int | None = None) -> Tab:
    song = parse_gp(path)
    chosen = pick_track(song, path, track)
    tuning = tuple(s.value for s in sorted(chosen.strings, key=lambda s: -s.number))
    strings = len(tuning)
    notes: list[TabNote] = []
    into_next: dict[int, str] = {}  # string → mark the next note there gets (hammer, slide)
    bars: list[int] = []
    position = 0

    def steps(ticks: int | Fraction) -> int:
        return round(Fraction(ticks) * grid / WHOLE)

    tempo = song.tempo
    signatures: Counter[tuple[int, int]] = Counter()
    for index, measure in enumerate(chosen.measures):
        ts = measure.header.timeSignature
        signatures[(ts.numerator, ts.denominator.value)] += 1
        length = max(1, steps(measure.length))
        beats = [(b, v) for v, voice in enumerate(measure.voices) for b in voice.beats]
        beats.sort(key=lambda item: (item[0].start, item[1]))
        for beat, _ in beats:
            mix = beat.effect.mixTableChange
            if index == 0 and mix is not None and mix.tempo is not None and mix.tempo.value > 0:
                tempo = mix.tempo.value
            start = position + steps(beat.start - measure.start)
            duration = max(1, steps(beat.duration.time))
            for note in beat.notes:
                string = strings - note.string  # GP counts from the highest string
                if not 0 <= string < strings:
                    continue
                if note.type == gp.NoteType.tie:
                    notes.append(TabNote(start, string, -1, duration))  # extends, see below
                    _remember_legato(note, string, into_next)
                    continue
                if note.type not in (gp.NoteType.normal, gp.NoteType.dead):
                    continue
                dead = note.type == gp.NoteType.dead
                fret = None if dead else note.value
                if fret is not None and not 0 <= fret <= MAX_FRET:
                    continue
                mark = _mark(note, beat)
                pending = into_next.pop(string, None)
                if pending is not None and not dead:
                    mark = pending
                _remember_legato(note, string, into_next)
                length_steps = duration
                if note.effect.letRing:
                    length_steps = position + length - start  # rings to the bar's end
                notes.append(TabNote(start, string, fret, length_steps, mark))
        bars.append(length)
        position += length
    signature = signatures.most_common(1)[0][0] if signatures else None  # not a pickup's
    if signature is not None and not signature_fits(signature, grid):
        signature = None
    return tab_from_notes(
        _join_ties(notes), bars, tuning, grid, signature, min(400, max(20, tempo))
    )


def _remember_legato(note: gp.Note, string: int, into_next: dict[int, str]) -> None:
    """Guitar Pro marks a hammer-on or slide on the note it starts from; the text marks the
    note it arrives at."""
    if note.effect.hammer:
        into_next[string] = LEGATO
    elif any(s in _LEGATO_SLIDES for s in note.effect.slides):
        into_next[string] = SLIDE


def _join_ties(notes: list[TabNote]) -> list[TabNote]:
    """Tie placeholders (fret -1) lengthen the note sounding on their string."""
    result: list[TabNote] = []
    last: dict[int, int] = {}  # string → index in result
    for note in sorted(notes, key=lambda n: (n.start, n.fret != -1)):
        if note.fret == -1:
            index = last.get(note.string)
            if index is not None:
                held = result[index]
                end = max(held.end, note.end)
                result[index] = TabNote(
                    held.start, held.string, held.fret, end - held.start, held.mark
                )
            continue
        last[note.string] = len(result)
        result.append(note)
    return result


# -- writing --------------------------------------------------------------------------------


@dataclass
class _Span:
    """A stretch of a bar in which the same notes sound: one beat (split into tied beats if no
    single duration fits)."""

    start: int
    length: int
    strikes: dict[int, tuple[str, str]]  # string → (cell, mark) struck at the span's start
    held: dict[int, str]  # string → fret char still sounding from before


def _spans(bar, strings: int, sounding: dict[int, str]) -> list[_Span]:
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


def _durations(start: int, length: int, grid: int) -> list[gp.Duration]:
    """Durations adding up to `length` steps; on triplet grids each beat-long group is either
    one plain duration or all triplets, so every tuplet is complete."""
    step = Fraction(WHOLE, grid)
    if grid % 3:
        return _plain(length * step)
    group = 3  # steps in one triplet group
    result: list[gp.Duration] = []
    position, end = start, start + length
    while position < end:
        if position % group == 0 and end - position >= group:
            run = (end - position) // group * group  # whole groups: plain durations
            result.extend(_plain(run * step))
            position += run
            continue
        stop = min(end, (position // group + 1) * group)
        result.extend(_plain((stop - position) * step, triplet=True))
        position = stop
    return result


def _duration(value: int, dotted: bool, triplet: bool) -> gp.Duration:
    duration = gp.Duration(value=value, isDotted=dotted)
    if triplet:
        duration.tuplet = gp.Tuplet(3, 2)
    return duration


def _plain(ticks: Fraction, triplet: bool = False) -> list[gp.Duration]:
    """One duration if one fits exactly (dotted allowed), else the longest plain one that fits
    and then the rest."""
    values = (1, 2, 4, 8, 16, 32, 64)
    found = []
    while ticks > 0:
        exact = [
            _duration(v, d, triplet)
            for v in values
            for d in ((False,) if triplet else (False, True))
            if Fraction(_duration(v, d, triplet).time) == ticks
        ]
        if exact:
            found.append(exact[0])
            break
        fitting = [v for v in values if Fraction(_duration(v, False, triplet).time) <= ticks]
        if not fitting:
            break  # below a 64th triplet: cannot happen on the supported grids
        duration = _duration(fitting[0], False, triplet)
        found.append(duration)
        ticks -= Fraction(duration.time)
    return found


def write_gp5(tab: Tab, path: str | Path, title: str = "") -> None:
    song = gp.Song()
    song.title = title
    song.tempo = tab.tempo or 120
    song.measureHeaders = []
    track = gp.Track(song)
    track.name = "Bass" if min(tab.tuning) < 35 else "Guitar"
    track.channel.instrument = 33 if min(tab.tuning) < 35 else 25
    strings = tab.strings
    track.strings = [gp.GuitarString(strings - i, p) for i, p in enumerate(tab.tuning)][::-1]
    track.measures = []
    song.tracks = [track]
    start_ticks = gp.Duration.quarterTime
    sounding: dict[int, str] = {}
    last_note: dict[int, gp.Note] = {}
    for number, bar in enumerate(tab.bars, start=1):
        header = gp.MeasureHeader(number=number, start=start_ticks)
        num, den = bar_signature(len(bar), tab.grid, tab.time_signature) or (4, 4)
        header.timeSignature = gp.TimeSignature(num, gp.Duration(value=den))
        song.addMeasureHeader(header)
        measure = gp.Measure(track, header)
        track.measures.append(measure)
        voice = measure.voices[0]
        for span in _spans(bar, strings, sounding):
            _write_span(voice, span, tab, strings, last_note)
        start_ticks += header.length
    first = track.measures[0].voices[0].beats
    if first and tab.tempo:
        first[0].effect.mixTableChange = gp.MixTableChange(
            tempo=gp.MixTableItem(value=tab.tempo, duration=0)
        )
    gp.write(song, str(path), version=(5, 1, 0))


def _write_span(voice, span: _Span, tab: Tab, strings: int, last_note: dict) -> None:
    for piece, duration in enumerate(_durations(span.start, span.length, tab.grid)):
        beat = gp.Beat(voice, duration=duration)
        voice.beats.append(beat)
        if not span.strikes and not span.held:
            beat.status = gp.BeatStatus.rest
            continue
        beat.status = gp.BeatStatus.normal
        for s, fret in span.held.items():
            beat.notes.append(_tie(beat, s, fret, strings, last_note))
        for s, (cell, mark) in span.strikes.items():
            if piece > 0:  # later pieces of a split span hold the struck note
                beat.notes.append(_tie(beat, s, cell, strings, last_note))
                continue
            beat.notes.append(_strike(beat, s, cell, mark, strings, last_note))
        beat.notes.sort(key=lambda n: n.string)


def _tie(beat, s: int, cell: str, strings: int, last_note: dict) -> gp.Note:
    fret = 0 if cell == DEAD else FRET_CHARS.index(cell)
    note = gp.Note(beat, value=fret, string=strings - s, type=gp.NoteType.tie)
    last_note[s] = note
    return note


def _strike(beat, s: int, cell: str, mark: str, strings: int, last_note: dict) -> gp.Note:
    dead = cell == DEAD
    note = gp.Note(
        beat,
        value=0 if dead else FRET_CHARS.index(cell),
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
