"""The abc codec's own ABC player: a canonical tune → the notes abc2midi would play → MIDI.

abc2midi (abcMIDI) is the reference ABC player; users need not have it installed. The player
reads the codec's own tokens and follows abc2midi's decisions step by step (see each module):
score (pitches, lengths, decorations), passes (grace notes, ties, repeats it assumes, trills),
walk (repeats and endings, chord notes, velocities), accompaniment (chord symbols), chords
(chord names and voicings), midi_file (the file, with a note-off for every note-on).
"""

from __future__ import annotations

from pathlib import Path

from rnnmusic.codecs.abc.play.midi_file import midi_file, write_performance
from rnnmusic.codecs.abc.play.passes import prepare
from rnnmusic.codecs.abc.play.score import read_score
from rnnmusic.codecs.abc.play.walk import Performance, PlayedNote, walk
from rnnmusic.codecs.abc.tune import Tune


def perform(tune: Tune, chord_symbols: bool = True) -> Performance:
    """Every note the tune plays, repeats played out; chord symbols as an accompaniment
    unless `chord_symbols` is False."""
    score = read_score(tune)
    prepare(score.features, score.unit)
    return walk(score, chord_symbols)


def write_tune_midi(
    tune: Tune, path: str | Path, title: str = "", chord_symbols: bool = True
) -> Performance:
    performance = perform(tune, chord_symbols)
    write_performance(performance, path, title)
    return performance


__all__ = ["Performance", "PlayedNote", "midi_file", "perform", "write_tune_midi"]
