"""A performance as a Standard MIDI File: a tempo track, the melody, the accompaniment.

Every note-on gets its note-off: a note that would still sound when the same pitch starts again
on its channel ends there (MIDI cannot tell two overlapping notes of one pitch apart), and at
one tick a note-off comes before a note-on.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import mido

from rnnmusic.codecs.abc.play.walk import MELODY_CHANNEL, Performance, PlayedNote

TEMPO = 500_000  # 120 quarter notes a minute: tunes keep no Q: field


def midi_file(performance: Performance, title: str = "") -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=performance.ticks_per_beat)
    conductor = mido.MidiTrack()
    if title:
        conductor.append(mido.MetaMessage("track_name", name=title[:120], time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=TEMPO, time=0))
    num, den = performance.meter
    if den & (den - 1) == 0 and 1 <= num <= 255:
        conductor.append(mido.MetaMessage("time_signature", numerator=num, denominator=den))
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(conductor)
    melody = [n for n in performance.notes if n.channel == MELODY_CHANNEL]
    accompaniment = [n for n in performance.notes if n.channel != MELODY_CHANNEL]
    midi.tracks.append(_track(melody, "melody"))
    if accompaniment:
        midi.tracks.append(_track(accompaniment, "accompaniment"))
    return midi


def write_performance(performance: Performance, path: str | Path, title: str = "") -> None:
    midi_file(performance, title).save(str(path))


def _track(notes: list[PlayedNote], name: str) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message]] = []  # (tick, 0 off / 1 on, message)
    for note in _without_overlaps(notes):
        events.append(
            (
                note.start,
                1,
                mido.Message(
                    "note_on",
                    channel=note.channel,
                    note=note.pitch,
                    velocity=max(1, min(127, note.velocity)),
                ),
            )
        )
        events.append(
            (
                note.end,
                0,
                mido.Message("note_off", channel=note.channel, note=note.pitch, velocity=0),
            )
        )
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _without_overlaps(notes: list[PlayedNote]) -> list[PlayedNote]:
    """Each note ends by the time its pitch starts again on its channel (and lasts a tick)."""
    by_key: dict[tuple[int, int], list[PlayedNote]] = defaultdict(list)
    for note in notes:
        if 0 <= note.pitch <= 127:
            by_key[(note.channel, note.pitch)].append(note)
    out = []
    for same in by_key.values():
        same.sort(key=lambda n: n.start)
        for note, following in zip(same, [*same[1:], None], strict=True):
            end = note.end if following is None else min(note.end, following.start)
            if end > note.start:
                out.append(PlayedNote(note.start, end, note.pitch, note.channel, note.velocity))
    return out
