"""How closely the abc codec's MIDI agrees with abc2midi's for the same tune.

Both play the codec's own text of a tune (what `convert` and `generate` write as `.abc`); a
tune is note-exact when every note starts on the same beat with the same pitch in both (as a
multiset of (beat, pitch): channels, lengths and velocities aside). Used by
benchmarks/abc_midi_agreement.py and tests/test_abc_midi.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from rnnmusic.codecs.abc.clients import Onset, abc2midi_onsets
from rnnmusic.codecs.abc.normalise import SkippedTune, tune_from_raw
from rnnmusic.codecs.abc.play import perform
from rnnmusic.codecs.abc.reader import read_abc_text, split_tunes
from rnnmusic.codecs.abc.tune import Tune
from rnnmusic.errors import CodecError

Note = tuple[Fraction, int]  # beat, pitch


@dataclass
class CorpusTune:
    file: str
    label: str  # "tune X:3 (Title) at line 40"
    tune: Tune | None  # None when the codec leaves the tune out
    left_out: str = ""  # why


def corpus_tunes(paths: Iterable[str | Path]) -> Iterator[CorpusTune]:
    """Every tune of the files, as the abc codec reads it (unreadable files are passed over)."""
    for path in paths:
        try:
            preamble, raws = split_tunes(read_abc_text(path))
        except CodecError:
            continue
        for raw in raws:
            try:
                yield CorpusTune(str(path), raw.label, tune_from_raw(raw, preamble))
            except SkippedTune as skip:
                yield CorpusTune(str(path), raw.label, None, skip.reason)


def tune_abc(tune: Tune) -> str:
    """The text both players read: the codec's `.abc` for the tune."""
    return f"X:1\nT:rnnmusic\n{tune.text}\n"


def notes_of(onsets: Iterable[Onset]) -> list[Note]:
    return sorted((beat, pitch) for beat, pitch, _ in onsets)


def player_notes(tune: Tune, chord_symbols: bool = True) -> list[Note]:
    """The notes the codec's player writes, as (beat, pitch)."""
    performance = perform(tune, chord_symbols)
    ticks = performance.ticks_per_beat
    return sorted((Fraction(n.start, ticks), n.pitch) for n in performance.notes)


def abc2midi_notes(tune: Tune) -> list[Note] | None:
    """The notes abc2midi plays for the tune, or None when it writes no file."""
    onsets = abc2midi_onsets(tune_abc(tune))
    return None if onsets is None else notes_of(onsets)


def first_difference(expected: list[Note], got: list[Note]) -> str | None:
    """None when both lists hold the same notes; else the first that differs, in words."""
    if expected == got:
        return None
    for x, y in zip(expected, got, strict=False):
        if x != y:
            return f"abc2midi plays {_show(x)}, this player {_show(y)}"
    return f"abc2midi plays {len(expected)} notes, this player {len(got)}"


def _show(note: Note) -> str:
    beat, pitch = note
    return f"pitch {pitch} at beat {float(beat):g}"
