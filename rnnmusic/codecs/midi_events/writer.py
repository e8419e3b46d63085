"""Score → Standard MIDI File (type 1) with mido: a conductor track with tempo and meter, then
one named track per instrument on its own channel (drums on channel 10), so a DAW shows the
instruments as separate tracks. The bytes depend only on the score (golden files rely on it).
"""

from __future__ import annotations

import math
from pathlib import Path

import mido
import pretty_midi

from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.reader import DRUM_CHANNEL
from rnnmusic.codecs.midi_events.score import Score
from rnnmusic.errors import RnnMusicError

TARGET_RESOLUTION = 480  # MIDI ticks per quarter note that sequencers commonly use
MELODIC_CHANNEL_ORDER = [c for c in range(16) if c != DRUM_CHANNEL]


def midi_resolution(ticks_per_beat: int) -> int:
    """A whole multiple of the grid close to 480 ticks per quarter note."""
    return ticks_per_beat * math.ceil(TARGET_RESOLUTION / ticks_per_beat)


def score_to_midi(score: Score) -> mido.MidiFile:
    resolution = midi_resolution(score.ticks_per_beat)
    scale = resolution // score.ticks_per_beat
    midi = mido.MidiFile(type=1, ticks_per_beat=resolution)

    conductor = []
    for tick, numerator, denominator in score.meters:
        conductor.append(
            (
                tick * scale,
                0,
                mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator),
            )
        )
    for tick, bpm in score.tempos:
        tempo = mido.bpm2tempo(bpm)
        conductor.append((tick * scale, 1, mido.MetaMessage("set_tempo", tempo=tempo)))
    conductor.append((score.end * scale, 2, mido.MetaMessage("end_of_track")))
    midi.tracks.append(_track(conductor))

    melodic = 0
    for instrument in score.instruments():
        if instrument == alphabet.DRUMS:
            channel, name = DRUM_CHANNEL, "Drums"
        else:
            channel = MELODIC_CHANNEL_ORDER[melodic % len(MELODIC_CHANNEL_ORDER)]
            name = pretty_midi.program_to_instrument_name(instrument)
            melodic += 1
        events = [
            (0, 0, mido.MetaMessage("track_name", name=name)),
            (0, 1, mido.Message("program_change", channel=channel, program=instrument % 128)),
        ]
        for note in score.notes:
            if note.instrument != instrument:
                continue
            events.append(
                (
                    note.start * scale,
                    3,
                    mido.Message(
                        "note_on", channel=channel, note=note.pitch, velocity=note.velocity
                    ),
                )
            )
            events.append(
                (
                    note.end * scale,
                    2,
                    mido.Message("note_off", channel=channel, note=note.pitch, velocity=0),
                )
            )
        midi.tracks.append(_track(events))
    return midi


def _track(events: list[tuple[int, int, object]]) -> mido.MidiTrack:
    """Absolute (tick, order within the tick, message) → a track with delta times.

    In one tick, note-offs come before note-ons so a repeated note is heard twice."""
    track = mido.MidiTrack()
    events = sorted(events, key=lambda e: (e[0], e[1], getattr(e[2], "note", 0)))
    previous = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - previous))
        previous = tick
    return track


def write_midi(score: Score, path: str | Path) -> None:
    midi = score_to_midi(score)
    try:
        midi.save(str(path))
    except IsADirectoryError:
        raise RnnMusicError(f"cannot write {path}: it is a folder") from None
    except OSError as exc:
        raise RnnMusicError(f"cannot write {path} ({exc.strerror or exc})") from None
