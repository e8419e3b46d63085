"""The Bach chorales become MIDI through `score_midi` (0.065 s of CPU each) instead of music21's
own export (0.25 s, most of it deep copies to play out repeats): the midi-events text of each
must be what music21's export gives."""

from __future__ import annotations

import io
import warnings
from fractions import Fraction

import mido
import pytest

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.midi_events.corpus import _give_pickup_its_bar, chorale_scores
from rnnmusic.codecs.midi_events.score_midi import has_endings, playing_order, score_to_midi

EVERY = 5  # chorales are taken from every fifth of the 409 until enough are found


def _with_pickup_bar(score, midi: mido.MidiFile) -> mido.MidiFile:
    from music21 import stream

    first = score.parts[0].getElementsByClass(stream.Measure)[0]
    if 0 < first.paddingLeft < first.barDuration.quarterLength:
        _give_pickup_its_bar(midi, Fraction(first.barDuration.quarterLength - first.paddingLeft))
    return midi


def _text(midi: mido.MidiFile, tmp_path, name: str) -> list[str]:
    path = tmp_path / f"{name}.mid"
    midi.save(path)
    return get_codec("midi-events").encode_file(path)


@pytest.mark.slow
def test_chorales_read_the_same_as_through_music21s_own_export(tmp_path):
    """Eight chorales with repeats and eight without, from all over the collection."""
    from music21 import bar, converter
    from music21.midi.translate import streamToMidiFile

    wanted = {True: 8, False: 8}  # with repeats, without
    for source in chorale_scores()[::EVERY]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse(source, forceSource=True)
            repeats = bool(score.recurse().getElementsByClass(bar.Repeat))
            if not wanted[repeats] or has_endings(score):
                continue
            wanted[repeats] -= 1
            ours = _with_pickup_bar(score, score_to_midi(score))
            theirs = mido.MidiFile(file=io.BytesIO(streamToMidiFile(score).writestr()))
        theirs = _with_pickup_bar(score, theirs)
        assert _text(ours, tmp_path, "ours") == _text(theirs, tmp_path, "theirs"), source.name
    assert wanted == {True: 0, False: 0}, wanted


def test_repeats_are_played_as_written():
    from music21 import bar, stream

    measures = [stream.Measure(number=n) for n in range(1, 7)]
    measures[1].leftBarline = bar.Repeat(direction="start")
    measures[2].rightBarline = bar.Repeat(direction="end")
    measures[4].rightBarline = bar.Repeat(direction="end", times=3)  # from after the last end
    assert playing_order(measures) == [0, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 5]
    assert playing_order(measures[:1]) == [0]


def test_a_tie_holds_the_note_across_the_bar_line_inside_a_voice():
    from music21 import meter, note, stream, tie

    first, second = stream.Measure(number=1), stream.Measure(number=2)
    first.append(meter.TimeSignature("2/4"))
    held = note.Note("G3", quarterLength=2)
    held.tie = tie.Tie("start")
    first.append(held)
    end = note.Note("G3", quarterLength=1)
    end.tie = tie.Tie("stop")
    upper, lower = stream.Voice(id="1"), stream.Voice(id="2")
    lower.append([end, note.Note("A3", quarterLength=1)])
    upper.append([note.Note("D4", quarterLength=1), note.Note("B3", quarterLength=1)])
    second.insert(0, upper)
    second.insert(0, lower)
    part = stream.Part([first, second])
    midi = score_to_midi(stream.Score([part]))
    spans, now, sounding = [], 0, {}
    for message in midi.tracks[1]:
        now += message.time
        if message.type == "note_on":
            sounding[message.note] = now
        elif message.type == "note_off":
            spans.append((message.note, sounding.pop(message.note), now))
    quarter = midi.ticks_per_beat
    assert sorted(spans) == [
        (55, 0, 3 * quarter),  # G3 tied over the bar line: one note of three beats
        (57, 3 * quarter, 4 * quarter),
        (59, 3 * quarter, 4 * quarter),
        (62, 2 * quarter, 3 * quarter),
    ]
