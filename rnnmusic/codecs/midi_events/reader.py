"""MIDI files as they are found → scores on the grid.

mido parses the bytes (running status, meta and sysex events, type 0/1/2). The rest is here
because the codec's choices live here: a note-off ends the earliest sounding note of the same
track, channel and key (chorale voices share a channel, so a second note-on on a sounding key is
common); a zero-velocity note-on is a note-off; programs change per channel as the file plays;
times are quantised to the nearest grid tick and a note keeps at least one tick; notes become the
instrument (program, or drums on channel 10) they sound with, whatever track they sit in.
"""

from __future__ import annotations

import io
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import mido

from rnnmusic.bounded_read import read_bytes
from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.score import (
    MELODIC_CHANNELS,
    Note,
    Score,
    max_ticks,
    quantise,
    resolve_overlaps,
)
from rnnmusic.errors import CodecError

DRUM_CHANNEL = 9  # "channel 10" counted from 1
MAX_FILE_BYTES = 32 * 1024 * 1024  # MIDI files are small; anything this big is not one
MAX_TRACKS = 1024  # orchestral files have a few dozen; reading 30,000 takes minutes
_TIMING = ("set_tempo", "time_signature", "program_change")


@dataclass(frozen=True)
class Selection:
    """What the user asked to keep: one track (counted from 1; None: all) and the drums."""

    track: int | None = None
    drums: bool = True


def load_midi(path: str | Path) -> mido.MidiFile:
    """The bytes parsed by mido, or a CodecError naming the file and saying why they cannot be
    (every command that reads MIDI starts here; each then checks what it needs of the header)."""
    data = read_bytes(path, MAX_FILE_BYTES, "a MIDI file")
    if not data:
        raise CodecError(path, "is empty (0 bytes), not a MIDI file")
    if not data.startswith(b"MThd"):
        raise CodecError(path, "is not a MIDI file (it does not start with a MIDI header)")
    claimed = int.from_bytes(data[10:12], "big")  # mido reads this count signed: 65,535 is -1
    if claimed > MAX_TRACKS:
        raise CodecError(
            path,
            f"has a header claiming {claimed:,} tracks, more than the {MAX_TRACKS:,} rnnmusic "
            "reads (a damaged header, or thousands of tracks no tool plays as one piece)",
        )
    try:
        return mido.MidiFile(file=io.BytesIO(data), clip=True)
    except EOFError:
        raise CodecError(path, "is truncated (the file ends inside a track)") from None
    except Exception as exc:  # mido raises many types on damaged bytes
        raise CodecError(path, f"is corrupt ({_describe(exc)})") from None


def read_midi_file(path: str | Path, codec_name: str = "midi-events") -> mido.MidiFile:
    """The parsed file, or a CodecError naming the file and saying what is wrong with it (the
    tab codec reads MIDI through here too, and passes its name)."""
    midi = load_midi(path)
    if midi.ticks_per_beat < 0:
        raise CodecError(
            path,
            f"counts time in SMPTE frames, which the {codec_name} codec does not read "
            "(re-save it with ticks per beat from a sequencer)",
        )
    if midi.ticks_per_beat == 0:
        raise CodecError(path, "is corrupt (its header gives 0 ticks per beat)")
    if midi.type not in (0, 1, 2):
        raise CodecError(path, f"is corrupt (its header gives MIDI file type {midi.type})")
    return midi


def without_zero_tempos(midi: mido.MidiFile) -> mido.MidiFile:
    """A tempo of 0 µs per beat is taken as no tempo change (pretty_midi divides by it); the
    piano roll (`rnnmusic.midi_input`) and the tab codec's MIDI reader both call it."""
    for track in midi.tracks:
        for index, message in enumerate(track):
            if message.type == "set_tempo" and message.tempo == 0:
                track[index] = mido.MetaMessage("marker", text="", time=message.time)
    return midi


def _describe(exc: Exception) -> str:
    text = " ".join(str(exc).split()).rstrip(".")  # one line, whatever mido said
    return text[:120] if text else type(exc).__name__


def scores_from_midi(
    midi: mido.MidiFile, path: str | Path, ticks_per_beat: int, selection: Selection
) -> list[Score]:
    """One score per piece: the whole file for types 0 and 1, each track for type 2 (a file of
    independent patterns)."""
    tracks = list(enumerate(midi.tracks, start=1))  # numbered as a sequencer lists them
    if selection.track is not None and selection.track > len(tracks):
        raise CodecError(
            path,
            f"has {len(tracks)} track{'s' if len(tracks) != 1 else ''} (numbered from 1), "
            f"so there is no track {selection.track} to keep",
        )
    groups = [[t] for t in tracks] if midi.type == 2 else [tracks]
    if midi.type == 2 and selection.track is not None:
        groups = [[tracks[selection.track - 1]]]
    scores = []
    for group in groups:
        score = _score_from_tracks(group, midi.ticks_per_beat, ticks_per_beat, selection, path)
        if score is not None:
            scores.append(score)
    if not scores:
        raise CodecError(path, _why_empty(midi, selection))
    return scores


def _why_empty(midi: mido.MidiFile, selection: Selection) -> str:
    with_notes = [
        i
        for i, track in enumerate(midi.tracks, start=1)
        if any(m.type == "note_on" and m.velocity > 0 for m in track)
    ]
    if not with_notes:
        return "holds no notes"
    if selection.track is not None and selection.track not in with_notes:
        listed = ", ".join(map(str, with_notes))
        return f"track {selection.track} holds no notes (tracks with notes: {listed})"
    return "holds only drum notes, which --no-drums drops"


def _score_from_tracks(
    tracks: list[tuple[int, mido.MidiTrack]],
    resolution: int,
    ticks_per_beat: int,
    selection: Selection,
    path: str | Path,
) -> Score | None:
    events = []  # (tick, timing first, track, position, message)
    track_end: dict[int, int] = {}
    for index, track in tracks:
        tick = 0
        for position, message in enumerate(track):
            tick += message.time
            if message.type in _TIMING:
                events.append((tick, 0, index, position, message))
            elif message.type in ("note_on", "note_off"):
                events.append((tick, 1, index, position, message))
        track_end[index] = tick
    events.sort(key=lambda e: e[:4])

    def grid(tick: int) -> int:
        return quantise(tick, resolution, ticks_per_beat)

    programs = [alphabet.DEFAULT_PROGRAM] * 16
    sounding: dict[tuple[int, int, int], deque] = defaultdict(deque)
    notes: list[Note] = []
    tempos: list[tuple[int, int]] = [(0, alphabet.DEFAULT_TEMPO)]
    meters: list[tuple[int, int, int]] = [(0, *alphabet.DEFAULT_METER)]

    def add(start: int, end: int, pitch: int, instrument: int, velocity: int, track: int):
        if selection.track is not None and track != selection.track:
            return
        if instrument == alphabet.DRUMS and not selection.drums:
            return
        start = grid(start)
        notes.append(Note(start, max(grid(end), start + 1), pitch, instrument, velocity))

    for tick, _, track, _, message in events:
        kind = message.type
        if kind == "set_tempo":
            if message.tempo > 0:
                bpm = round(60_000_000 / message.tempo)
                bpm = min(alphabet.MAX_TEMPO, max(alphabet.MIN_TEMPO, bpm))
                _set(tempos, (grid(tick), bpm))
        elif kind == "time_signature":
            if alphabet.valid_meter(message.numerator, message.denominator):
                _set(meters, (grid(tick), message.numerator, message.denominator))
        elif kind == "program_change":
            programs[message.channel] = message.program
        elif kind == "note_on" and message.velocity > 0:
            instrument = alphabet.DRUMS if message.channel == DRUM_CHANNEL else None
            instrument = programs[message.channel] if instrument is None else instrument
            key = (track, message.channel, message.note)
            sounding[key].append((tick, message.velocity, instrument))
        else:  # note_off, or note_on with velocity 0
            key = (track, message.channel, message.note)
            if sounding.get(key):
                start, velocity, instrument = sounding[key].popleft()
                add(start, tick, message.note, instrument, velocity, track)
    for (track, _, pitch), waiting in sounding.items():  # never switched off: end with track
        for start, velocity, instrument in waiting:
            add(start, max(track_end[track], start), pitch, instrument, velocity, track)

    if not notes:
        return None
    notes = resolve_overlaps(notes)
    melodic = {n.instrument for n in notes} - {alphabet.DRUMS}
    if len(melodic) > MELODIC_CHANNELS:
        raise CodecError(
            path,
            f"uses {len(melodic)} melodic instruments, more than the {MELODIC_CHANNELS} "
            "MIDI channels a decoded file can give them; keep fewer with --track",
        )
    end = max(n.end for n in notes)
    if end > max_ticks(ticks_per_beat):
        raise CodecError(
            path,
            f"lasts {end // ticks_per_beat:,} beats; the midi-events codec reads pieces of up "
            f"to {max_ticks(ticks_per_beat) // ticks_per_beat:,} beats",
        )
    return Score(
        ticks_per_beat=ticks_per_beat,
        notes=notes,
        tempos=_compact([t for t in tempos if t[0] < end]),
        meters=_compact([m for m in meters if m[0] < end]),
    )


def _set(events: list, event: tuple) -> None:
    """A later event on the same grid tick replaces the earlier one."""
    if events[-1][0] == event[0]:
        events[-1] = event
    else:
        events.append(event)


def _compact(events: list[tuple]) -> list[tuple]:
    """Drop events that repeat the value already in force."""
    kept = [events[0]]
    for event in events[1:]:
        if event[1:] != kept[-1][1:]:
            kept.append(event)
    return kept
