"""Fingering: choose a string and fret for every note of a melody or chord sequence, so MIDI and
ABC music becomes tab a guitarist can play.

Playable means: notes struck together lie on different strings, and their fretted notes span at
most `MAX_SPAN` frets (index finger to little finger with a stretch). Among the playable choices
a Viterbi search over (choice, hand position) picks the cheapest sequence; what costs what
(high positions, open strings, stretches, skipped strings and changed grips in chords,
position shifts) is fitted to the fingerings people wrote in real tabs (`fingering_model`). Notes that cannot all
be placed (a chord wider than the hand, more notes than strings) lose their inner notes first;
the highest note (the melody) is kept longest.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rnnmusic.codecs.tab.alphabet import MAX_FRET
from rnnmusic.codecs.tab.fingering_model import (
    MAX_SPAN,
    Placement,
    States,
    Weights,
    cheapest_path,
    move_costs,
    states,
    weights_for,
)
from rnnmusic.codecs.tab.model import TabNote

__all__ = [
    "MAX_SPAN",
    "PitchedNote",
    "finger",
    "fit_to_range",
    "lower_to_open_position",
    "pitch_range",
    "weights_for",
]

MAX_CHORD_CANDIDATES = 2  # × strings: the notes of a huge chord the fingering tries to keep
OPEN_POSITION = 4  # open position: open strings and the frets under the four fingers, 1 to 4


@dataclass(frozen=True)
class PitchedNote:
    """A note before fingering: times in grid steps, pitch as MIDI number."""

    start: int
    pitch: int
    length: int = 1


def pitch_range(tuning: tuple[int, ...], max_fret: int = MAX_FRET) -> tuple[int, int]:
    return min(tuning), max(tuning) + max_fret


def fit_to_range(
    pitches: list[int], low: int, high: int, prefer_shift: int = 0
) -> tuple[int, list[int]]:
    """Shift the whole piece by octaves so most notes fit the instrument (ties go to the shift
    nearest `prefer_shift`), then fold each remaining note into range by octaves."""
    if not pitches:
        return 0, []
    shifts = sorted(range(-48, 49, 12), key=lambda s: abs(s - prefer_shift))
    best = max(shifts, key=lambda s: sum(low <= p + s <= high for p in pitches))
    fitted = []
    for pitch in pitches:
        p = pitch + best
        while p < low:
            p += 12
        while p > high:
            p -= 12
        fitted.append(p)
    return best, fitted


def lower_to_open_position(pitches: list[int], tuning: tuple[int, ...]) -> list[int]:
    """The melody moved down by whole octaves, as long as every note stays above the lowest
    string, to the octave where most of its notes lie in open position (open strings and frets
    1 to `OPEN_POSITION`); ties keep the higher octave, and a melody already there stays. What
    a guitarist does with a tune written above the guitar when asked to play it simply."""
    if not pitches:
        return []
    top = max(tuning) + OPEN_POSITION
    best, most = 0, sum(p <= top for p in pitches)
    shift = -12
    while min(pitches) + shift >= min(tuning):
        fitting = sum(p + shift <= top for p in pitches)
        if fitting > most:
            best, most = shift, fitting
        shift -= 12
    return [p + best for p in pitches]


def _assignments(pitches: list[int], tuning: tuple[int, ...], max_fret: int) -> list[Placement]:
    """Every way to put these pitches on distinct strings within the span: ((string, fret), …)."""
    options = [
        [(s, p - open_) for s, open_ in enumerate(tuning) if 0 <= p - open_ <= max_fret]
        for p in pitches
    ]
    found: list[Placement] = []

    def extend(index: int, chosen: list[tuple[int, int]], lo: int, hi: int) -> None:
        if index == len(options):
            found.append(tuple(chosen))
            return
        used = {s for s, _ in chosen}
        for string, fret in options[index]:
            if string in used:
                continue
            nlo, nhi = (min(lo, fret), max(hi, fret)) if fret > 0 else (lo, hi)
            if nhi - nlo > MAX_SPAN:
                continue
            chosen.append((string, fret))
            extend(index + 1, chosen, nlo, nhi)
            chosen.pop()

    extend(0, [], MAX_FRET + 1, -1)
    return found


def _playable_chord(
    pitches: list[int], tuning: tuple[int, ...], max_fret: int
) -> tuple[list[int], list[Placement]]:
    """The largest playable subset of the chord that keeps its highest note (the melody), with
    higher notes preferred among equals, and its assignments. Only notes that can sound with
    the top one are tried, and of a cluster of more than two per string only the highest: the
    search is over subsets, and a MIDI file's chord of 50 keys must not take seconds."""
    top, *rest = sorted(set(pitches), reverse=True)
    rest = [p for p in rest if _assignments([top, p], tuning, max_fret)]  # can sound with top
    rest = rest[: MAX_CHORD_CANDIDATES * len(tuning)]  # a piano's cluster: its highest notes
    for size in range(min(len(rest), len(tuning) - 1), -1, -1):
        for others in combinations(rest, size):
            subset = [top, *others]
            found = _assignments(subset, tuning, max_fret)
            if found:
                return subset, found
    return [], []


@dataclass
class Onset:
    """Notes struck together: the pitches kept, their lengths, and their states."""

    start: int
    pitches: list[int]
    lengths: dict[int, int]
    states: States


def onsets(
    notes: list[PitchedNote], tuning: tuple[int, ...], max_fret: int = MAX_FRET
) -> tuple[list[Onset], int]:
    """The notes grouped by onset with every playable state, and how many notes were dropped."""
    by_start: dict[int, dict[int, int]] = {}
    for note in notes:
        lengths = by_start.setdefault(note.start, {})
        lengths[note.pitch] = max(lengths.get(note.pitch, 0), note.length)
    known: dict[tuple[int, ...], tuple[list[int], States | None]] = {}  # repeated chords
    found: list[Onset] = []
    dropped = 0
    for start in sorted(by_start):
        lengths = by_start[start]
        key = tuple(sorted(lengths))
        if key not in known:
            kept, placements = _playable_chord(list(key), tuning, max_fret)
            known[key] = (kept, states(placements, len(tuning), max_fret) if kept else None)
        kept, onset_states = known[key]
        dropped += len(lengths) - len(kept)
        if onset_states is not None:
            found.append(Onset(start, kept, lengths, onset_states))
    return found, dropped


def held_strings(chain: list[Onset]) -> list[np.ndarray | None]:
    """Per onset: for each state of the onset before it, the bit mask of its strings whose
    note still sounds (None when nothing does)."""
    held: list[np.ndarray | None] = [None]
    for prev, onset in zip(chain, chain[1:], strict=False):
        ringing = [prev.start + prev.lengths[p] > onset.start for p in prev.pitches]
        if not any(ringing):
            held.append(None)
            continue
        masks = [
            sum(1 << s for (s, _), rings in zip(placed, ringing, strict=True) if rings)
            for placed in prev.states.placements
        ]
        held.append(np.array(masks, dtype=np.int64)[prev.states.placement])
    return held


def search(chain: list[Onset], weights: Weights) -> list[int]:
    """The cheapest state of each onset. A riff repeats its moves: each is weighed once."""
    state_costs = [onset.states.features @ weights.state_vector() for onset in chain]
    known: dict[tuple, np.ndarray] = {}

    def moves():
        for prev, onset, held in zip(chain, chain[1:], held_strings(chain)[1:], strict=False):
            key = (id(prev.states), id(onset.states), None if held is None else held.tobytes())
            if key not in known:
                known[key] = move_costs(prev.states, onset.states, held, weights)
            yield known[key]

    return cheapest_path(state_costs, moves())


def finger(
    notes: list[PitchedNote],
    tuning: tuple[int, ...],
    max_fret: int = MAX_FRET,
    weights: Weights | None = None,
    program: int | None = None,
) -> tuple[list[TabNote], int]:
    """TabNotes for the notes (pitches must already lie in range) and how many were dropped.
    `program` (General MIDI) says which instrument's habits to follow; without it, a bass
    tuning is fingered as bass and anything else as acoustic guitar."""
    weights = weights or weights_for(tuning, program)
    chain, dropped = onsets(notes, tuning, max_fret)
    if not chain:
        return [], dropped
    path = search(chain, weights)
    result = []
    for onset, state in zip(chain, path, strict=True):
        placed = onset.states.placements[onset.states.placement[state]]
        for pitch, (string, fret) in zip(onset.pitches, placed, strict=True):
            result.append(TabNote(onset.start, string, fret, max(1, onset.lengths[pitch])))
    result.sort(key=lambda n: (n.start, n.string))
    return result, dropped
