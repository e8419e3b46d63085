"""Guitar Pro 3/4/5 files through PyGuitarPro: exact rhythm, tuning and techniques in (writing is
gp_writer.py).

Reading keeps both voices of one track on a grid chosen for the file (the coarsest from 16 up
that holds every onset, `choose_grid`) unless one is asked for. What the text cannot hold is
said, never dropped silently: onsets moved to the grid, notes above fret 36, and two voices
striking one string at once (the second note moves to another string with the same pitch when
one is free, else it is lost, and either way the reading says so).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import guitarpro as gp

from rnnmusic.bounded_read import read_bytes
from rnnmusic.codecs.tab.alphabet import (
    BEND,
    BEND_RELEASE,
    HARMONIC,
    HIGHEST_FRET,
    LEGATO,
    MARK_PRIORITY,
    MUTED,
    NO_MARK,
    PALM_MUTE,
    SLIDE,
    VIBRATO,
)
from rnnmusic.codecs.tab.model import (
    MAX_STRINGS,
    MIN_STRINGS,
    Tab,
    TabNote,
    choose_grid,
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


@dataclass
class GpReading:
    """A Guitar Pro track as a tab, and one sentence for each kind of thing that did not fit."""

    tab: Tab
    remarks: list[str] = field(default_factory=list)


@dataclass
class _Struck:
    """A note as the file has it, before it goes on the grid."""

    onset: Fraction  # whole notes from the first bar
    duration: Fraction
    bar_end: Fraction  # where its bar ends (let-ring notes ring to there)
    string: int  # 0 = the lowest string
    fret: int
    kind: gp.NoteType
    mark: str
    let_ring: bool
    palm_mute: bool


def _mark(note: gp.Note, beat: gp.Beat) -> str:
    effect = note.effect
    found = set()
    if note.type == gp.NoteType.dead:
        found.add(MUTED)
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


def _whole(ticks: int) -> Fraction:
    return Fraction(ticks, WHOLE)


def read_gp_tab(path: str | Path, grid: int | None = None, track: int | None = None) -> GpReading:
    """The chosen track on `grid` (None: the grid `choose_grid` picks for its onsets)."""
    song = parse_gp(path)
    chosen = pick_track(song, path, track)
    tuning = tuple(s.value for s in sorted(chosen.strings, key=lambda s: -s.number))
    strings = len(tuning)
    tempo = song.tempo
    signatures: Counter[tuple[int, int]] = Counter()
    bar_lengths: list[Fraction] = []
    struck: list[_Struck] = []
    into_next: dict[int, str] = {}  # string → mark the next note there gets (hammer, slide)
    position = Fraction(0)
    for index, measure in enumerate(chosen.measures):
        ts = measure.header.timeSignature
        signatures[(ts.numerator, ts.denominator.value)] += 1
        length = _whole(measure.length)
        beats = [(b, v) for v, voice in enumerate(measure.voices) for b in voice.beats]
        beats.sort(key=lambda item: (item[0].start, item[1]))
        for beat, _ in beats:
            mix = beat.effect.mixTableChange
            if index == 0 and mix is not None and mix.tempo is not None and mix.tempo.value > 0:
                tempo = mix.tempo.value
            onset = position + _whole(beat.start - measure.start)
            for note in beat.notes:
                string = strings - note.string  # GP counts from the highest string
                if not 0 <= string < strings or note.type == gp.NoteType.rest:
                    continue
                mark = NO_MARK
                if note.type != gp.NoteType.tie:
                    mark = _mark(note, beat)
                    pending = into_next.pop(string, None)
                    if pending is not None and note.type == gp.NoteType.normal:
                        mark = pending
                _remember_legato(note, string, into_next)
                struck.append(
                    _Struck(
                        onset,
                        _whole(beat.duration.time),
                        position + length,
                        string,
                        note.value,
                        note.type,
                        mark,
                        note.effect.letRing,
                        note.effect.palmMute,
                    )
                )
        bar_lengths.append(length)
        position += length
    if grid is None:
        grid = choose_grid({s.onset for s in struck}, bar_lengths)
    remarks: list[str] = []
    notes = _on_grid(struck, grid, remarks)
    notes = _one_note_per_string(notes, tuning, remarks)
    bars = [max(1, round(length * grid)) for length in bar_lengths]
    signature = signatures.most_common(1)[0][0] if signatures else None  # not a pickup's
    if signature is not None and not signature_fits(signature, grid):
        signature = None
    tab = tab_from_notes(notes, bars, tuning, grid, signature, min(400, max(20, tempo)))
    return GpReading(tab, remarks)


def _on_grid(struck: list[_Struck], grid: int, remarks: list[str]) -> list[TabNote]:
    """The notes in grid steps, ties joined to the note they continue; notes above the text's
    highest fret are left out, and both that and onsets moved to the grid are remarked."""
    notes: list[TabNote] = []
    last: dict[int, int | None] = {}  # string → index in notes of the note a tie continues
    moved = too_high = 0
    for s in sorted(struck, key=lambda s: (s.onset, s.kind != gp.NoteType.tie)):
        start = round(s.onset * grid)
        moved += (s.onset * grid).denominator != 1 and s.kind != gp.NoteType.tie
        end = round((s.bar_end if s.let_ring else s.onset + s.duration) * grid)
        if s.kind == gp.NoteType.tie:
            index = last.get(s.string)
            if index is not None:
                held = notes[index]
                stop = max(held.end, end)
                notes[index] = TabNote(
                    held.start, held.string, held.fret, stop - held.start, held.mark
                )
            continue
        if not 0 <= s.fret <= HIGHEST_FRET:
            too_high += 1
            last[s.string] = None  # a tie after it must not lengthen an earlier note
            continue
        last[s.string] = len(notes)
        fret, mark = s.fret, s.mark
        if s.kind == gp.NoteType.dead and fret == 0:  # the text's `x`: the same note
            fret, mark = None, PALM_MUTE if s.palm_mute else NO_MARK
        notes.append(TabNote(start, s.string, fret, max(1, end - start), mark))
    if moved:
        remarks.append(
            f"{moved} onset(s) moved to the nearest 1/{grid} note (a rhythm no grid the text "
            "has can hold, such as a 13-tuplet, or a --grid too coarse for the file)"
        )
    if too_high:
        remarks.append(f"{too_high} note(s) above fret {HIGHEST_FRET} left out")
    return notes


def _one_note_per_string(
    notes: list[TabNote], tuning: tuple[int, ...], remarks: list[str]
) -> list[TabNote]:
    """A string sounds one note at a time. Where two notes are struck on one string at once
    (two voices, or onsets the grid merged) the same fret is kept once; a different fret
    moves to a free string where it sounds the same pitch, or else is lost."""
    by_onset: dict[tuple[int, int], list[TabNote]] = defaultdict(list)
    for note in notes:
        by_onset[(note.start, note.string)].append(note)
    kept: list[TabNote] = []
    extras: list[TabNote] = []
    doubled = 0
    for group in by_onset.values():
        kept.append(group[0])
        for other in group[1:]:
            if other.fret == group[0].fret:
                doubled += 1
            else:
                extras.append(other)
    moved = lost = 0
    busy = {(n.start, n.string) for n in kept}
    for note in extras:
        pitch = tuning[note.string] + note.fret
        free = [
            s
            for s in range(len(tuning))
            if (note.start, s) not in busy
            and 0 <= pitch - tuning[s] <= HIGHEST_FRET
            and not any(k.string == s and k.start < note.start < k.end for k in kept)
        ]
        if not free:
            lost += 1
            continue
        string = min(free, key=lambda s: abs(s - note.string))
        kept.append(TabNote(note.start, string, pitch - tuning[string], note.length, note.mark))
        busy.add((note.start, string))
        moved += 1
    if doubled:
        remarks.append(f"{doubled} note(s) struck twice at once on one string kept once")
    if moved:
        remarks.append(
            f"{moved} note(s) struck on a string that already sounded another note at that "
            "moment (two voices) moved to another string with the same pitch"
        )
    if lost:
        remarks.append(
            f"{lost} note(s) struck on a string that already sounded another note at that "
            "moment (two voices) left out: no other string was free for the pitch"
        )
    return sorted(kept, key=lambda n: (n.start, n.string))


def _remember_legato(note: gp.Note, string: int, into_next: dict[int, str]) -> None:
    """Guitar Pro marks a hammer-on or slide on the note it starts from; the text marks the
    note it arrives at."""
    if note.effect.hammer:
        into_next[string] = LEGATO
    elif any(s in _LEGATO_SLIDES for s in note.effect.slides):
        into_next[string] = SLIDE
