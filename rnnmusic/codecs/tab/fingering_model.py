"""The fingering's cost model and its search: what a guitarist's choice of string and fret costs,
and the Viterbi search for the cheapest sequence of choices.

A *state* of one onset is a choice of strings and frets for its notes plus a hand position (the
fret under the index finger, which covers `REACH` + 1 frets without stretching). Its cost is a
weighted sum of features of the state (how high the hand is, open strings, stretches, strings
skipped in a chord …) and of the move from the previous onset's state (frets moved, position
changes, strings crossed …). The weights (`Weights`) were fitted to the fingerings people
wrote in real tabs (benchmarks/fingering_tune.py); separately for acoustic guitar (and music
with no instrument named), electric guitar and bass, which people finger differently.

Cost is linear in the number of onsets: an onset has at most a few hundred states and the
search looks one onset back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields

import numpy as np

MAX_SPAN = 4  # highest minus lowest fretted fret among notes struck together
REACH = 3  # frets the hand covers beyond its position's fret without stretching
HIGH_FRET = 12  # above the 12th fret the frets are narrow and the neck joins the body
LEAP = 4  # a move further than this is a leap, not a shift to a neighbouring position

Placement = tuple[tuple[int, int], ...]  # (string, fret) per note; string 0 = lowest


@dataclass(frozen=True)
class Weights:
    """Cost per unit of each feature (below zero: a preference). The first eight price a state,
    the rest the move into it from the previous onset's state. Depth, span, leap, crossing,
    regrip and same_string are held at 0 in the shipped profiles: fitted too, they lowered the
    agreement on songs left out of the fit (BENCHMARKS.md, fingering_all_features)."""

    height: float  # per fret of hand position: low positions are easier, sound fuller
    high_fret: float  # per fret above HIGH_FRET, per note
    open_string: float  # per open string struck
    open_away: float  # per open string struck, per fret the hand is above the first position
    stretch: float  # per note beyond the frets under the four fingers
    gap: float  # per string skipped inside a chord (strummed chords use neighbouring strings)
    depth: float  # per string below the highest, per note: how low on the neck a line sits
    span: float  # per fret between a chord's lowest and highest fretted note
    move: float  # per fret the hand moves
    shift: float  # per change of position, on top of the distance moved
    leap: float  # per fret moved beyond LEAP
    crossing: float  # per string from one single note to the next
    regrip: float  # per string between the mean strings of onsets where one is a chord
    same_string: float  # per single note on a string the previous onset struck
    reshape: float  # per chord of another shape than the chord before it (the hand changes grip)
    held: float  # per onset that strikes a string still holding the previous note

    STATE_FEATURES = 8

    def vector(self) -> np.ndarray:
        return np.array(astuple(self), dtype=float)

    def state_vector(self) -> np.ndarray:
        return self.vector()[: self.STATE_FEATURES]

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass
class States:
    """The (placement, hand position) states of one set of pitches struck together."""

    placements: list[Placement]
    placement: np.ndarray  # per state: index into placements
    position: np.ndarray  # per state: the index finger's fret
    centre: np.ndarray  # per state: mean string of the placement
    single: np.ndarray  # per state: the string of a single note, -1 for a chord
    strings: np.ndarray  # per state: bit mask of the strings struck
    shape: np.ndarray  # per state of a chord: its shape's number (strings and frets relative
    # to its lowest string and fret, open strings apart); -1 for a single note
    features: np.ndarray  # (states, STATE_FEATURES)
    cost: np.ndarray | None = None  # per state, once weighed


def states(placements: list[Placement], strings: int, max_position: int) -> States:
    """Every state of the placements with its features; open-only placements may sit under
    any hand position (the hand stays where it was)."""
    placement, position, centre, single, mask, shape, features = [], [], [], [], [], [], []
    top = strings - 1
    for index, placed in enumerate(placements):
        frets = [f for _, f in placed]
        fretted = [f for f in frets if f > 0]
        opened = len(frets) - len(fretted)
        used = sorted(s for s, _ in placed)
        if fretted:
            positions = range(max(1, max(fretted) - MAX_SPAN), min(fretted) + 1)
        else:
            positions = range(1, max_position + 1)
        high = sum(f - HIGH_FRET for f in fretted if f > HIGH_FRET)
        gap = used[-1] - used[0] + 1 - len(used)
        depth = sum(top - s for s in used)
        span = max(fretted) - min(fretted) if fretted else 0
        bits = sum(1 << s for s in used)
        shape_id = _shape_number(placed) if len(placed) > 1 else -1
        for p in positions:
            placement.append(index)
            position.append(p)
            centre.append(sum(used) / len(used))
            single.append(used[0] if len(used) == 1 else -1)
            mask.append(bits)
            shape.append(shape_id)
            stretched = sum(f > p + REACH for f in fretted)
            features.append((p, high, opened, opened * (p - 1), stretched, gap, depth, span))
    return States(
        placements,
        np.array(placement),
        np.array(position, dtype=float),
        np.array(centre),
        np.array(single),
        np.array(mask, dtype=np.int64),
        np.array(shape, dtype=np.int64),
        np.array(features, dtype=float).reshape(-1, Weights.STATE_FEATURES),
    )


def _shape_number(placed: Placement) -> int:
    """Chords of one shape get one number, wherever on the neck they lie."""
    low_string = min(s for s, _ in placed)
    low_fret = min((f for _, f in placed if f > 0), default=0)
    key = tuple(sorted((s - low_string, f - low_fret if f else -1) for s, f in placed))
    return hash(key) & (2**62 - 1)  # not negative: -1 marks a single note


def transition_features(a: States, b: States, held: np.ndarray | None) -> list[np.ndarray]:
    """(states of b, states of a) matrices, one per move feature, in `Weights` order."""
    move = np.abs(b.position[:, None] - a.position[None, :])
    strings_apart = np.abs(b.centre[:, None] - a.centre[None, :])
    singles = (b.single[:, None] >= 0) & (a.single[None, :] >= 0)
    same = (b.single[:, None] >= 0) & ((a.strings[None, :] >> b.single.clip(0)[:, None]) & 1 == 1)
    chords = (b.shape[:, None] >= 0) & (a.shape[None, :] >= 0)
    reshape = chords & (b.shape[:, None] != a.shape[None, :])
    if held is None:
        clash = np.zeros_like(move)
    else:
        clash = ((b.strings[:, None] & held[None, :]) != 0).astype(float)
    return [
        move,
        (move > 0).astype(float),
        np.maximum(move - LEAP, 0.0),
        np.where(singles, strings_apart, 0.0),
        np.where(singles, 0.0, strings_apart),
        same.astype(float),
        reshape.astype(float),
        clash,
    ]


def move_costs(a: States, b: States, held: np.ndarray | None, weights: Weights) -> np.ndarray:
    """(states of b, states of a): the weighted cost of each move from a state of a into b."""
    total = np.zeros((len(b.position), len(a.position)))
    moves = weights.vector()[weights.STATE_FEATURES :]
    for weight, matrix in zip(moves, transition_features(a, b, held), strict=True):
        if weight:
            total += weight * matrix
    return total


def cheapest_path(state_costs: list[np.ndarray], moves: Iterable[np.ndarray]) -> list[int]:
    """Viterbi: the index of the chosen state of each onset, given each onset's state costs and
    the (states, previous states) move costs into each onset after the first."""
    total = state_costs[0]
    back: list[np.ndarray] = []
    for cost, move in zip(state_costs[1:], moves, strict=False):
        candidates = total[None, :] + move
        best = candidates.argmin(axis=1)
        back.append(best)
        total = candidates[np.arange(len(best)), best] + cost
    path = [int(total.argmin())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    path.reverse()
    return path


# Held at 0 unless asked otherwise: fitting them too lowered the agreement on songs left out of
# the fit (leave-one-song-out, BENCHMARKS.md), so they stay out of the shipped weights.
UNFITTED = ("depth", "span", "leap", "crossing", "regrip", "same_string")


def profile_weights(**chosen: float) -> Weights:
    """Weights from the values set by hand or fitted; the `UNFITTED` features not among them
    cost nothing. Why: every profile holds the same six at 0, so each lists only what it
    chose (benchmarks/fingering_tune.py prints its fit in this form)."""
    return Weights(**{**dict.fromkeys(UNFITTED, 0.0), **chosen})


# The hand-set weights from before the fit (issue 21): where every fit starts.
HAND_SET = profile_weights(
    height=0.03,
    high_fret=0.1,
    open_string=-0.1,
    open_away=0.0,
    stretch=1.0,
    gap=0.0,
    move=1.0,
    shift=0.5,
    reshape=0.0,
    held=4.0,
)
# Fitted by benchmarks/fingering_tune.py. Acoustic also stands for music that names no
# instrument (ABC tunes, MIDI without a guitar program).
PROFILES: dict[str, Weights] = {
    "acoustic": profile_weights(
        height=0.13,
        high_fret=0.1,
        open_string=-0.1,
        open_away=0.03,
        stretch=2.0,
        gap=1.0,
        move=1.0,
        shift=0.5,
        reshape=0.0,
        held=4.0,
    ),
    "electric": profile_weights(
        height=0.0075,
        high_fret=0.05,
        open_string=0.3,
        open_away=1.3,
        stretch=0.03,
        gap=1.03,
        move=0.9,
        shift=0.0,
        reshape=0.9,
        held=4.0,
    ),
    "bass": profile_weights(
        height=0.015,
        high_fret=0.1,
        open_string=0.2,
        open_away=0.0,
        stretch=0.0,
        gap=0.0,
        move=0.0,
        shift=1.5,
        reshape=0.0,
        held=4.0,
    ),
}
ELECTRIC_PROGRAMS = range(29, 32)  # General MIDI overdriven, distortion, harmonics guitar
BASS_BELOW = 36  # a lowest string below C2 makes a bass (B1 on five strings, E1 on four)


def profile_for(tuning: tuple[int, ...], program: int | None = None) -> str:
    """Which players' habits to follow: bass (the tuning says so), electric guitar (overdriven
    or distortion: power chords, few open strings) or acoustic guitar."""
    if min(tuning) < BASS_BELOW:
        return "bass"
    return "electric" if program in ELECTRIC_PROGRAMS else "acoustic"


def weights_for(tuning: tuple[int, ...], program: int | None = None) -> Weights:
    return PROFILES[profile_for(tuning, program)]
