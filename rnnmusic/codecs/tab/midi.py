"""MIDI in and out for the tab codec: melodies and chords are read and fingered onto the strings;
a tab is written back as the guitar's sounding pitches."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from math import gcd, lcm
from pathlib import Path

import mido
import pretty_midi

from rnnmusic.codecs.midi_events.reader import read_midi_file, without_zero_tempos
from rnnmusic.codecs.tab.alphabet import PALM_MUTE, TEMPO_RANGE, bar_signature
from rnnmusic.codecs.tab.fingering import (
    PitchedNote,
    finger,
    fit_to_range,
    lower_to_open_position,
    pitch_range,
)
from rnnmusic.codecs.tab.model import DEFAULT_GRID, Tab, choose_grid, signature_fits, tab_from_notes
from rnnmusic.errors import CodecError

TICKS_PER_QUARTER = 960  # a whole number of ticks per step on every grid that divides 3840
GUITAR_PROGRAMS = range(24, 32)  # General MIDI guitars
PROGRAM_GUITAR, PROGRAM_BASS = 25, 33  # steel-string guitar, fingered bass
VELOCITY, MUTED_VELOCITY, DEAD_VELOCITY = 90, 60, 40
DEAD_NOTE = 8  # a dead note is a short click: a 32nd (a quarter / 8) at most
DEFAULT_TEMPO = 120


def read_midi_tab(
    path: str | Path,
    tuning: tuple[int, ...],
    grid: int | None = None,
    track: int | None = None,
    open_position: bool = False,
) -> Tab:
    """The notes of a MIDI file (one instrument, or all but drums) fingered onto the strings,
    on `grid` (None: the coarsest grid from 16 up that holds every onset exactly, else 16 —
    played MIDI is never exact); `open_position`: music above open position is played octaves
    lower (`lower_to_open_position`)."""
    midi = _load(path)
    chosen, _ = choose_instruments(midi, path, track)
    whole = 4 * midi.resolution
    if grid is None:
        onsets = {Fraction(midi.time_to_tick(n.start), whole) for i in chosen for n in i.notes}
        grid = choose_grid(onsets, fallback=DEFAULT_GRID)
    steps_per_tick = grid / whole
    raw = []
    for instrument in chosen:
        for note in instrument.notes:
            start = round(midi.time_to_tick(note.start) * steps_per_tick)
            end = round(midi.time_to_tick(note.end) * steps_per_tick)
            raw.append((start, note.pitch, max(1, end - start)))
    low, high = pitch_range(tuning)
    _, pitches = fit_to_range([p for _, p, _ in raw], low, high)
    if open_position:
        pitches = lower_to_open_position(pitches, tuning)
    notes = [PitchedNote(s, p, n) for (s, _, n), p in zip(raw, pitches, strict=True)]
    program = chosen[0].program if len(chosen) == 1 else None  # whose habits to finger by
    fingered, _ = finger(notes, tuning, program=program)
    signature, bars = _bars(midi, grid, max((n.end for n in fingered), default=1))
    return tab_from_notes(fingered, bars, tuning, grid, signature, _clamp_tempo(_tempo(midi)))


def choose_instruments(
    midi: pretty_midi.PrettyMIDI, path: str | Path, track: int | None
) -> tuple[list[pretty_midi.Instrument], str]:
    """The instruments a tab takes from the file, and one sentence saying which and why: the
    one --track names, else the first guitar, else all pitched ones merged (drums never)."""
    instruments = [i for i in midi.instruments if not i.is_drum and i.notes]
    if not instruments:
        raise CodecError(path, "holds no pitched notes (only drums or nothing)")
    drums = " (drums left out)" if any(i.is_drum and i.notes for i in midi.instruments) else ""
    listed = ", ".join(f"{n} {_instrument_name(i)}" for n, i in enumerate(instruments, 1))
    others = f"; --track N takes another ({listed})"
    if track is not None:
        if not 1 <= track <= len(instruments):
            raise CodecError(
                path,
                f"has {len(instruments)} pitched instrument tracks, so --track {track} is not one",
            )
        chosen = instruments[track - 1]
        return [chosen], f"took instrument {track}, {_instrument_name(chosen)}, as --track asks"
    if len(instruments) == 1:
        return instruments, f"took its one instrument, {_instrument_name(instruments[0])}{drums}"
    guitars = [n for n, i in enumerate(instruments, 1) if i.program in GUITAR_PROGRAMS]
    if guitars:
        chosen = instruments[guitars[0] - 1]
        why = "the first guitar" if len(guitars) == 1 else f"the first of {len(guitars)} guitars"
        return [chosen], (
            f"took instrument {guitars[0]} of {len(instruments)}, {_instrument_name(chosen)}: "
            f"{why}{drums}{others}"
        )
    return instruments, (
        f"merged all {len(instruments)} pitched instruments onto the strings, as none is a "
        f"guitar{drums}{others}"
    )


def describe_midi_reading(path: str | Path, track: int | None = None) -> list[str]:
    """What `convert` tells the user about a MIDI file it turns into a tab: the instruments it
    took and why, and what became of the tempo."""
    midi = _load(path)
    lines = [choose_instruments(midi, path, track)[1]]
    tempo, changes = _tempo(midi), len(midi.get_tempo_changes()[1])
    kept = _clamp_tempo(tempo)
    raw = read_midi_file(path, "tab")
    if not any(m.type == "set_tempo" for events in raw.tracks for m in events):
        lines.append(f"the file sets no tempo: written at {DEFAULT_TEMPO} bpm, as MIDI assumes")
    elif kept != tempo:
        low, high = TEMPO_RANGE
        lines.append(
            f"its tempo, {tempo} bpm, is outside what a tab holds ({low}-{high} bpm): "
            f"written as {kept} bpm"
        )
    else:
        lines.append(f"tempo {kept} bpm")
    if changes > 1:
        lines[-1] += (
            f" (a tab holds one tempo: the file's {changes - 1} later changes are not kept)"
        )
    return lines


def _instrument_name(instrument: pretty_midi.Instrument) -> str:
    program = pretty_midi.program_to_instrument_name(instrument.program)
    name = instrument.name.strip()
    return f"'{name}' ({program})" if name and name != program else program


def _tempo(midi: pretty_midi.PrettyMIDI) -> int | None:
    """Beats per minute at the start (pretty_midi's 120 where the file sets none)."""
    tempi = midi.get_tempo_changes()[1]
    return round(tempi[0]) if len(tempi) else None


def _load(path: str | Path) -> pretty_midi.PrettyMIDI:
    """pretty_midi's view of the file, after the checks the midi-events codec makes (size,
    header, truncation, SMPTE time): pretty_midi itself fails on such files with bare
    ValueErrors and divisions by zero."""
    midi = without_zero_tempos(read_midi_file(path, "tab"))
    if not any(m.type == "note_on" and m.velocity for track in midi.tracks for m in track):
        raise CodecError(path, "holds no notes")
    try:
        return pretty_midi.PrettyMIDI(mido_object=midi)
    except Exception as exc:  # pretty_midi raises many kinds on odd but parseable files
        detail = " ".join(str(exc).split()).rstrip(".")[:100] or type(exc).__name__
        raise CodecError(path, f"is a damaged MIDI file ({detail})") from None


def _bars(
    midi: pretty_midi.PrettyMIDI, grid: int, end: int
) -> tuple[tuple[int, int] | None, list[int]]:
    """The most common time signature (if it fits the grid) and bar lengths in steps up to
    `end`; a time signature change starts a new bar."""
    changes = []
    for ts in midi.time_signature_changes:
        step = round(midi.time_to_tick(ts.time) * grid / (4 * midi.resolution))
        changes.append((step, ts.numerator, ts.denominator))
    bars: list[int] = []
    used: Counter[tuple[int, int]] = Counter()
    position = 0
    current = (4, 4)
    while position < end:
        for step, num, den in changes:
            if step <= position:
                current = (num, den)
        length = max(1, round(current[0] * grid / current[1]))
        next_change = min((s for s, _, _ in changes if s > position), default=None)
        if next_change is not None and position + length > next_change:
            length = next_change - position
        bars.append(length)
        used[current] += 1
        position += length
    signature = used.most_common(1)[0][0] if changes and used else None
    if signature is not None and not signature_fits(signature, grid):
        signature = None
    return signature, bars


def _clamp_tempo(tempo: int | None) -> int | None:
    if tempo is None:
        return None
    return min(400, max(20, tempo))


def ticks_per_quarter(grid: int) -> int:
    """960, or a multiple of it with a whole number of ticks per step (g312: 12,480)."""
    return lcm(TICKS_PER_QUARTER, grid // gcd(grid, 4))


def write_midi(tab: Tab, path: str | Path) -> None:
    """Sounding pitches on one track. Dead notes are short quiet clicks at the pitch Guitar Pro
    players give them (their fret, or the open string when the fret is unknown), so the .mid
    and the .gp5 of one tab hold the same notes."""
    resolution = ticks_per_quarter(tab.grid)
    ticks_per_step = 4 * resolution // tab.grid
    bass = min(tab.tuning) < 35
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="Bass" if bass else "Guitar", time=0))
    tempo = tab.tempo or DEFAULT_TEMPO
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)
    signature = None
    for start, bar in zip(tab.bar_starts(), tab.bars, strict=True):
        current = bar_signature(len(bar), tab.grid, tab.time_signature) or (4, 4)
        if current != signature:
            signature = current
            message = mido.MetaMessage(
                "time_signature", numerator=current[0], denominator=current[1], time=0
            )
            events.append((start * ticks_per_step, 0, message))
    program = PROGRAM_BASS if bass else PROGRAM_GUITAR
    events.append((0, 1, mido.Message("program_change", program=program, time=0)))
    for note in tab.notes():
        pitch = tab.played_pitch(note)
        if not 0 <= pitch <= 127:
            continue
        velocity = MUTED_VELOCITY if note.mark == PALM_MUTE else VELOCITY
        on, off = note.start * ticks_per_step, note.end * ticks_per_step
        if note.dead:
            velocity, off = DEAD_VELOCITY, min(off, on + resolution // DEAD_NOTE)
        events.append((on, 3, mido.Message("note_on", note=pitch, velocity=velocity, time=0)))
        events.append((off, 2, mido.Message("note_off", note=pitch, velocity=0, time=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    end = tab.length * ticks_per_step
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    midi = mido.MidiFile(ticks_per_beat=resolution)
    midi.tracks.append(track)
    midi.save(str(path))
