"""Fingering: choose a string and fret for every note of a melody or chord sequence, so MIDI and
ABC music becomes tab a guitarist can play.

Playable means: notes struck together lie on different strings, and their fretted notes span at
most `MAX_SPAN` frets (index finger to little finger with a stretch). Among the playable choices
a Viterbi search over (choice, hand position) picks the sequence with the least hand movement,
preferring low positions and open strings. Notes that cannot all be placed (a chord wider than
the hand, more notes than strings) lose their inner notes first; the highest note (the melody)
is kept longest.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rnnmusic.codecs.tab.model import MAX_FRET, TabNote

MAX_SPAN = 4  # highest minus lowest fretted fret among notes struck together
MAX_CHORD_CANDIDATES = 2  # × strings: the notes of a huge chord the fingering tries to keep
REACH = 3  # frets the hand covers from its position without stretching
STRETCH_COST = 1.0
SHIFT_COST = 0.5  # any change of position, on top of the distance moved
HEIGHT_COST = 0.03  # per fret of position: low positions are easier and sound warmer
FRETTED_COST = 0.1  # per fretted note: open strings are free
HIGH_FRET = 12
HIGH_FRET_COST = 0.1  # per fret above HIGH_FRET
HELD_STRING_COST = 4.0  # striking a string that still holds the previous note cuts it short


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


def _assignments(
    pitches: list[int], tuning: tuple[int, ...], max_fret: int
) -> list[tuple[tuple[int, int], ...]]:
    """Every way to put these pitches on distinct strings within the span: ((string, fret), …)."""
    options = [
        [(s, p - open_) for s, open_ in enumerate(tuning) if 0 <= p - open_ <= max_fret]
        for p in pitches
    ]
    found: list[tuple[tuple[int, int], ...]] = []

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
) -> tuple[list[int], list[tuple[tuple[int, int], ...]]]:
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


def _positions(frets: list[int], max_position: int) -> range:
    fretted = [f for f in frets if f > 0]
    if not fretted:
        return range(1, max_position + 1)
    return range(max(1, max(fretted) - MAX_SPAN), min(fretted) + 1)


def _state_cost(frets: list[int], position: int) -> float:
    fretted = [f for f in frets if f > 0]
    cost = HEIGHT_COST * position + FRETTED_COST * len(fretted)
    cost += sum(HIGH_FRET_COST * (f - HIGH_FRET) for f in fretted if f > HIGH_FRET)
    if fretted and max(fretted) > position + REACH:
        cost += STRETCH_COST
    return cost


@dataclass
class _Event:
    start: int
    pitches: list[int]
    lengths: dict[int, int]
    choices: list[tuple[tuple[int, int], ...]]
    states: list[tuple[int, int]]  # (choice index, hand position)
    cost: np.ndarray


def finger(
    notes: list[PitchedNote], tuning: tuple[int, ...], max_fret: int = MAX_FRET
) -> tuple[list[TabNote], int]:
    """TabNotes for the notes (pitches must already lie in range) and how many were dropped."""
    by_start: dict[int, dict[int, int]] = {}
    for note in notes:
        lengths = by_start.setdefault(note.start, {})
        lengths[note.pitch] = max(lengths.get(note.pitch, 0), note.length)
    max_position = max_fret
    events: list[_Event] = []
    dropped = 0
    for start in sorted(by_start):
        lengths = by_start[start]
        kept, choices = _playable_chord(list(lengths), tuning, max_fret)
        dropped += len(lengths) - len(kept)
        if not kept:
            continue
        states, costs = [], []
        for index, choice in enumerate(choices):
            frets = [f for _, f in choice]
            for position in _positions(frets, max_position):
                states.append((index, position))
                costs.append(_state_cost(frets, position))
        events.append(_Event(start, kept, lengths, choices, states, np.array(costs)))
    if not events:
        return [], dropped
    path = _viterbi(events)
    result = []
    for event, state in zip(events, path, strict=True):
        choice = event.choices[event.states[state][0]]
        for pitch, (string, fret) in zip(event.pitches, choice, strict=True):
            result.append(TabNote(event.start, string, fret, max(1, event.lengths[pitch])))
    result.sort(key=lambda n: (n.start, n.string))
    return result, dropped


def _viterbi(events: list[_Event]) -> list[int]:
    """Index of the chosen state for each event: least total state + movement cost."""
    total = events[0].cost.copy()
    back: list[np.ndarray] = []
    for prev, event in zip(events, events[1:], strict=False):
        prev_pos = np.array([p for _, p in prev.states], dtype=float)
        pos = np.array([p for _, p in event.states], dtype=float)
        move = np.abs(pos[:, None] - prev_pos[None, :])
        transition = move + SHIFT_COST * (move > 0)
        transition += _held_string_cost(prev, event)
        candidates = total[None, :] + transition
        best = candidates.argmin(axis=1)
        back.append(best)
        total = candidates[np.arange(len(best)), best] + event.cost
    path = [int(total.argmin())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    path.reverse()
    return path


def _held_string_cost(prev: _Event, event: _Event) -> np.ndarray:
    """(states, prev states): cost for reusing a string whose note is still sounding."""
    held_choices = []
    for choice in prev.choices:
        held = {
            string
            for pitch, (string, _) in zip(prev.pitches, choice, strict=True)
            if prev.start + prev.lengths[pitch] > event.start
        }
        held_choices.append(held)
    if not any(held_choices):
        return np.zeros((len(event.states), len(prev.states)))
    clash = np.array(
        [
            [bool(held & {s for s, _ in choice}) for held in held_choices]
            for choice in event.choices
        ],
        dtype=float,
    )
    rows = np.array([c for c, _ in event.states])
    cols = np.array([c for c, _ in prev.states])
    return HELD_STRING_COST * clash[np.ix_(rows, cols)]
