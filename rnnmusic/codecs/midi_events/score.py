"""The music the text can hold: notes, tempo and meter on a uniform grid of ticks.

Both directions meet here: a MIDI file is read into a `Score`, a `Score` is written as text; text
is decoded into a `Score`, a `Score` is written as a MIDI file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction

from rnnmusic.codecs.midi_events.alphabet import DEFAULT_METER, DEFAULT_TEMPO

DEFAULT_VELOCITY = 80  # mezzo-forte: notes of a text without velocity play this loud
MAX_BEATS = 16_000  # about two hours at 120 BPM; keeps written files readable by pretty_midi
MELODIC_CHANNELS = 15  # MIDI has 16 channels and one of them is for drums


@dataclass(frozen=True, order=True)
class Note:
    start: int  # grid ticks
    end: int  # grid ticks, always after start
    pitch: int  # MIDI note number 0-127
    instrument: int  # General MIDI program 0-127, or DRUMS
    velocity: int = DEFAULT_VELOCITY


@dataclass
class Score:
    ticks_per_beat: int
    notes: list[Note] = field(default_factory=list)
    tempos: list[tuple[int, int]] = field(default_factory=lambda: [(0, DEFAULT_TEMPO)])
    meters: list[tuple[int, int, int]] = field(default_factory=lambda: [(0, *DEFAULT_METER)])

    @property
    def end(self) -> int:
        return max((n.end for n in self.notes), default=0)

    def instruments(self) -> list[int]:
        """Melodic instruments by program, drums last (the order events are written in)."""
        return sorted({n.instrument for n in self.notes})


def max_ticks(ticks_per_beat: int) -> int:
    return MAX_BEATS * ticks_per_beat


def resolve_overlaps(notes: Iterable[Note]) -> list[Note]:
    """One key cannot sound twice: a note that starts while the same pitch of the same
    instrument still sounds ends the earlier one there and lasts until both would have ended.
    Every onset is kept and the pitch sounds exactly as long as before; two notes starting on
    the same tick become one."""
    by_key: dict[tuple[int, int], list[Note]] = {}
    for note in notes:
        by_key.setdefault((note.instrument, note.pitch), []).append(note)
    result: list[Note] = []
    for group in by_key.values():
        group.sort()
        current = group[0]
        for note in group[1:]:
            if note.start >= current.end:
                result.append(current)
                current = note
            elif note.start == current.start:
                current = replace(current, end=max(current.end, note.end))
            else:
                result.append(replace(current, end=note.start))
                current = replace(note, end=max(current.end, note.end))
        result.append(current)
    result.sort(key=lambda n: (n.start, n.instrument, n.pitch))
    return result


def bar_starts(meters: list[tuple[int, int, int]], ticks_per_beat: int) -> Iterator[Fraction]:
    """Grid positions where bars begin after tick 0, endless; a meter change starts a new bar.

    A bar of n/d lasts n * 4/d quarter notes, which need not be a whole number of ticks."""
    for index, (tick, numerator, denominator) in enumerate(meters):
        length = Fraction(4 * numerator * ticks_per_beat, denominator)
        following = meters[index + 1][0] if index + 1 < len(meters) else None
        position = Fraction(tick)
        if index > 0:
            yield position
        while True:
            position += length
            if following is not None and position >= following:
                break
            yield position


class VelocityBins:
    """MIDI velocities 1-127 in `count` equal bins; a bin is played at its middle velocity."""

    def __init__(self, count: int):
        self.count = count
        members: list[list[int]] = [[] for _ in range(count)]
        for velocity in range(1, 128):
            members[self.bin(velocity)].append(velocity)
        self.centres = [m[len(m) // 2] for m in members]

    def bin(self, velocity: int) -> int:
        return (min(127, max(1, velocity)) - 1) * self.count // 127

    def velocity(self, bin_index: int) -> int:
        return self.centres[bin_index]


def quantise(tick: int, source_resolution: int, ticks_per_beat: int) -> int:
    """The nearest grid tick to a MIDI tick (halves round up), in exact integer arithmetic."""
    return (2 * tick * ticks_per_beat + source_resolution) // (2 * source_resolution)
