"""MIDI in and out for the tab codec: melodies and chords are read and fingered onto the strings;
a tab is written back as the guitar's sounding pitches."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mido
import pretty_midi

from rnnmusic.codecs.midi_events.reader import read_midi_file
from rnnmusic.codecs.tab.fingering import PitchedNote, finger, fit_to_range, pitch_range
from rnnmusic.codecs.tab.grammar import bar_signature
from rnnmusic.codecs.tab.model import DEFAULT_GRID, Tab, signature_fits, tab_from_notes
from rnnmusic.errors import CodecError
from rnnmusic.midi_input import without_zero_tempos

TICKS_PER_QUARTER = 960  # divisible by every grid's step (g48: 80 ticks)
GUITAR_PROGRAMS = range(24, 32)  # General MIDI guitars
PROGRAM_GUITAR, PROGRAM_BASS = 25, 33  # steel-string guitar, fingered bass
VELOCITY, MUTED_VELOCITY = 90, 60
DEFAULT_TEMPO = 120


def read_midi_tab(
    path: str | Path, tuning: tuple[int, ...], grid: int = DEFAULT_GRID, track: int | None = None
) -> Tab:
    """The notes of a MIDI file (one instrument, or all but drums) fingered onto the strings."""
    midi = _load(path)
    instruments = [i for i in midi.instruments if not i.is_drum and i.notes]
    if not instruments:
        raise CodecError(path, "holds no pitched notes (only drums or nothing)")
    if track is not None:
        if not 1 <= track <= len(instruments):
            raise CodecError(
                path,
                f"has {len(instruments)} pitched instrument tracks, so --track {track} is not one",
            )
        chosen = [instruments[track - 1]]
    else:
        guitars = [i for i in instruments if i.program in GUITAR_PROGRAMS]
        chosen = guitars[:1] or instruments
    steps_per_tick = grid / (4 * midi.resolution)
    raw = []
    for instrument in chosen:
        for note in instrument.notes:
            start = round(midi.time_to_tick(note.start) * steps_per_tick)
            end = round(midi.time_to_tick(note.end) * steps_per_tick)
            raw.append((start, note.pitch, max(1, end - start)))
    low, high = pitch_range(tuning)
    _, pitches = fit_to_range([p for _, p, _ in raw], low, high)
    notes = [PitchedNote(s, p, n) for (s, _, n), p in zip(raw, pitches, strict=True)]
    program = chosen[0].program if len(chosen) == 1 else None  # whose habits to finger by
    fingered, _ = finger(notes, tuning, program=program)
    signature, bars = _bars(midi, grid, max((n.end for n in fingered), default=1))
    tempo = round(midi.get_tempo_changes()[1][0]) if len(midi.get_tempo_changes()[1]) else None
    return tab_from_notes(fingered, bars, tuning, grid, signature, _clamp_tempo(tempo))


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


def write_midi(tab: Tab, path: str | Path) -> None:
    """Sounding pitches on one track; dead notes are left out (they have no pitch)."""
    ticks_per_step = 4 * TICKS_PER_QUARTER // tab.grid
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
        pitch = tab.pitch(note)
        if pitch is None or not 0 <= pitch <= 127:
            continue
        velocity = MUTED_VELOCITY if note.mark == "m" else VELOCITY
        on, off = note.start * ticks_per_step, note.end * ticks_per_step
        events.append((on, 3, mido.Message("note_on", note=pitch, velocity=velocity, time=0)))
        events.append((off, 2, mido.Message("note_off", note=pitch, velocity=0, time=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    end = tab.length * ticks_per_step
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_QUARTER)
    midi.tracks.append(track)
    midi.save(str(path))
