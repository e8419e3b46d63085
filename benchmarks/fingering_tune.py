"""Fit the fingering's cost weights to human tabs: coordinate descent on the share of notes given
the same string and fret as the person wrote. Acoustic guitar, electric guitar and bass are
fitted apart (rnnmusic.codecs.tab.fingering_model.weights_for says which a part is).

    python benchmarks/fingering_tune.py FOLDER ... [--rounds 3]

Prints the fitted weights to copy into rnnmusic/codecs/tab/fingering_model.py. The search only
changes weights; everything that does not depend on them (the states of every onset, their
features, how many of their notes agree with the tab) is worked out once per part.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from human_tabs import load  # noqa: E402

from rnnmusic.codecs.tab import fingering, fingering_model  # noqa: E402
from rnnmusic.codecs.tab.fingering_model import UNFITTED, Weights, cheapest_path  # noqa: E402
from rnnmusic.codecs.tab.fingering_score import HumanPart  # noqa: E402

# Tried for each weight in turn: these multiples of it, and these added (so it can cross 0).
MULTIPLIERS = (0.0, 0.5, 0.8, 1.25, 2.0)
OFFSETS = (-1.0, -0.3, -0.1, -0.03, 0.03, 0.1, 0.3, 1.0)
PHYSICAL = ("stretch", "move", "shift", "leap", "held")  # costs that never turn into rewards
# Per profile: each part's agreement counts in proportion to its notes ** (1 - BALANCE), so
# at 0.5 a part of 1,200 notes weighs as much as four of 75, not sixteen. Bassists differ most
# from song to song (one plays every open string, another none): counted note by note, the
# longest bass line set the habits of all, and the other songs' bass lines, left out of the fit,
# agreed less (leave-one-song-out, BENCHMARKS.md: nightwish's bass 69% against 83%).
BALANCE = {"bass": 0.5}


def profile(part: HumanPart) -> str:
    return fingering_model.profile_for(part.tuning, part.program)


@dataclass
class Example:
    """A human part prepared for fast scoring of many weight settings."""

    notes: int
    features: list[np.ndarray]  # per onset: (states, state features)
    moves: list[np.ndarray]  # per onset after the first: (move features, states, prev states)
    agree: list[np.ndarray]  # per onset: per state, how many of its notes the tab agrees with

    def agreeing(self, weights: Weights, cache: dict[int, np.ndarray]) -> int:
        state_weights = weights.state_vector()
        move_weights = weights.vector()[Weights.STATE_FEATURES :]
        costs = [f @ state_weights for f in self.features]

        def moves():
            for stacked in self.moves:
                key = id(stacked)
                if key not in cache:
                    cache[key] = np.tensordot(move_weights, stacked, axes=1)
                yield cache[key]

        path = cheapest_path(costs, moves())
        return int(sum(a[s] for a, s in zip(self.agree, path, strict=True)))


def prepare(part: HumanPart) -> Example:
    chain, _ = fingering.onsets(part.pitched(), part.tuning)
    held = fingering.held_strings(chain)
    written: dict[int, Counter] = {}
    for note in part.notes:
        written.setdefault(note.start, Counter())[(note.string, note.fret)] += 1
    stacked: dict[tuple, np.ndarray] = {}
    moves, agree = [], []
    for i, onset in enumerate(chain):
        tab = written.get(onset.start, Counter())
        per_placement = np.array(
            [sum(min(1, tab[sf]) for sf in placed) for placed in onset.states.placements]
        )
        agree.append(per_placement[onset.states.placement])
        if i:
            a, b = chain[i - 1].states, onset.states
            key = (id(a), id(b), None if held[i] is None else held[i].tobytes())
            if key not in stacked:
                stacked[key] = np.stack(fingering_model.transition_features(a, b, held[i]))
            moves.append(stacked[key])
    return Example(len(part.notes), [o.states.features for o in chain], moves, agree)


def agreement(examples: list[Example], weights: Weights, balance: float = 0.0) -> float:
    """The share of notes that agree; with `balance`, of each part's notes weighed by
    notes ** -balance (see `BALANCE`)."""
    cache: dict[int, np.ndarray] = {}
    scale = [max(1, e.notes) ** -balance for e in examples]
    notes = sum(e.notes * s for e, s in zip(examples, scale, strict=True))
    agreed = sum(e.agreeing(weights, cache) * s for e, s in zip(examples, scale, strict=True))
    return agreed / max(1e-9, notes)


def fit(
    examples: list[Example],
    start: Weights,
    rounds: int = 3,
    without: Sequence[str] = (),
    log=lambda *a: print(*a, file=sys.stderr),
    balance: float = 0.0,
) -> Weights:
    """Coordinate descent: each weight in turn takes the tried value that agrees best (parts
    weighed as `balance` says); the features named in `without` are held at 0."""
    best = dataclasses.replace(start, **{name: 0.0 for name in without})
    best_score = agreement(examples, best, balance)
    log(f"  start {best_score:.4f}")
    for _ in range(rounds):
        improved = False
        for name in (n for n in Weights.names() if n not in without):
            value = getattr(best, name)
            tried = {round(value * m, 4) for m in MULTIPLIERS}
            tried |= {round(value + d, 4) for d in OFFSETS}
            if name in PHYSICAL:
                tried = {t for t in tried if t >= 0}
            for candidate in sorted(tried - {value}):
                weights = dataclasses.replace(best, **{name: candidate})
                result = agreement(examples, weights, balance)
                if result > best_score + 1e-9:
                    best, best_score, improved = weights, result, True
                    log(f"    {name} = {candidate}: {result:.4f}")
        if not improved:
            break
    log(f"  fitted {best_score:.4f}")
    return best


def fit_profiles(
    parts: list[HumanPart],
    rounds: int = 3,
    without: Sequence[str] = (),
    log=lambda *a: print(*a, file=sys.stderr),
) -> dict[str, Weights]:
    """Weights per profile (acoustic, electric, bass), each fitted on that profile's parts."""
    fitted = {}
    for name in fingering_model.PROFILES:
        chosen = [prepare(p) for p in parts if profile(p) == name]
        log(f"{name}: {len(chosen)} parts, {sum(e.notes for e in chosen):,} notes")
        start = fingering_model.HAND_SET
        balance = BALANCE.get(name, 0.0)
        fitted[name] = fit(chosen, start, rounds, without, log, balance) if chosen else start
    return fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--without", default=",".join(UNFITTED), help="features held at 0 (a,b; '' for none)"
    )
    args = parser.parse_args()
    without = [w for w in args.without.split(",") if w]
    seen: set[str] = set()
    parts = [part for folder in args.folders for part in load(folder, seen)]
    print("PROFILES: dict[str, Weights] = {")
    for name, weights in fit_profiles(parts, args.rounds, without).items():
        chosen = {k: v for k, v in dataclasses.asdict(weights).items() if k not in UNFITTED or v}
        values = "".join(f"        {k}={v},\n" for k, v in chosen.items())
        print(f'    "{name}": profile_weights(\n{values}    ),')
    print("}")


if __name__ == "__main__":
    main()
