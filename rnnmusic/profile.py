"""What the training pieces look like, so that sampling keeps to it.

A grammar allows every tempo from 4 to 999 and every meter up to 99/64; a chorale corpus uses
two tempos and three meters. Corpus building records, over the training pieces, the settings
they use as spelled in their text (tempo, meter, key, instruments, tuning: `values`) and their
sizes (characters, notes, voices sounding at once: quantiles in `numbers`). The profile travels
into every checkpoint; strict sampling lets a piece open only with settings seen in training
and end near the length training pieces have.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

QUANTILES = 21  # 0 %, 5 %, … 100 %
CHARS = "chars"  # the one number every codec has: characters per piece, separator excluded
MAX_VALUES = 4096  # distinct values kept per setting; more is not a setting but noise
COVERAGE = 0.99  # strict sampling keeps to the values that make up 99 % of the uses
TYPICAL = 0.95  # … and to sizes (voices at once, instruments) that 95 % of pieces stay within


@dataclass
class PieceFacts:
    """What one piece uses: settings as spelled in its text, and sizes."""

    values: dict[str, Iterable[str]] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass
class CorpusProfile:
    pieces: int = 0
    values: dict[str, dict[str, int]] = field(default_factory=dict)  # setting -> value -> pieces
    numbers: dict[str, list[float]] = field(default_factory=dict)  # name -> QUANTILES quantiles

    def allowed(self, name: str, coverage: float = 1.0) -> frozenset[str] | None:
        """The most used values of a setting that together cover `coverage` of its uses in
        training (1.0: every value seen), or None when the corpus does not say. A tempo one
        chorale in 400 has is not what a chorale sounds like."""
        seen = self.values.get(name)
        if not seen:
            return None
        total = sum(seen.values())
        kept: set[str] = set()
        covered = 0
        for value, count in sorted(seen.items(), key=lambda item: -item[1]):
            if covered >= coverage * total:
                break
            kept.add(value)
            covered += count
        return frozenset(kept)

    def quantile(self, name: str, q: float) -> float | None:
        """The q-quantile (0–1) of a number over the training pieces, or None if unrecorded."""
        points = self.numbers.get(name)
        if not points:
            return None
        position = min(max(q, 0.0), 1.0) * (len(points) - 1)
        low = math.floor(position)
        high = min(low + 1, len(points) - 1)
        return points[low] + (points[high] - points[low]) * (position - low)

    def to_dict(self) -> dict[str, Any]:
        return {"pieces": self.pieces, "values": self.values, "numbers": self.numbers}

    @classmethod
    def from_dict(cls, data: Any) -> CorpusProfile | None:
        """The profile stored in a corpus or checkpoint; None for anything malformed (an old or
        damaged file samples with the grammar's whole range, as before profiles existed)."""
        if not isinstance(data, dict):
            return None
        pieces, values, numbers = data.get("pieces"), data.get("values"), data.get("numbers")
        if not isinstance(pieces, int) or not isinstance(values, dict):
            return None
        if not isinstance(numbers, dict):
            return None
        clean_values: dict[str, dict[str, int]] = {}
        for name, seen in values.items():
            if not isinstance(seen, dict) or len(seen) > MAX_VALUES:
                return None
            if not all(isinstance(v, str) and isinstance(n, int) for v, n in seen.items()):
                return None
            clean_values[str(name)] = dict(seen)
        clean_numbers: dict[str, list[float]] = {}
        for name, points in numbers.items():
            if not isinstance(points, list) or len(points) != QUANTILES:
                return None
            if not all(isinstance(p, int | float) and math.isfinite(p) for p in points):
                return None
            clean_numbers[str(name)] = [float(p) for p in points]
        return cls(pieces=pieces, values=clean_values, numbers=clean_numbers)


class ProfileBuilder:
    """Collects facts piece by piece; memory grows by a few numbers per piece."""

    def __init__(self) -> None:
        self.pieces = 0
        self.values: dict[str, Counter[str]] = {}
        self.numbers: dict[str, array] = {}

    def add(self, text: str, facts: PieceFacts) -> None:
        self.pieces += 1
        self._number(CHARS, len(text))
        for name, used in facts.values.items():
            counter = self.values.setdefault(name, Counter())
            if len(counter) < MAX_VALUES:
                counter.update(set(used))
        for name, value in facts.numbers.items():
            self._number(name, value)

    def _number(self, name: str, value: float) -> None:
        self.numbers.setdefault(name, array("d")).append(float(value))

    def build(self) -> CorpusProfile:
        return CorpusProfile(
            pieces=self.pieces,
            values={name: dict(counter.most_common()) for name, counter in self.values.items()},
            numbers={name: quantiles(points) for name, points in self.numbers.items()},
        )


def drawn_sizes(
    profile: CorpusProfile | None, name: str, floor: int, generator, batch: int, device
) -> Any:
    """One size per sample drawn from the training pieces' distribution of `name`, below its
    95th percentile and no smaller than `floor` (None where the profile does not say). A cap
    at the 95th percentile alone lets every sample wander to it: tab samples spanned 21
    semitones against 14 for the median training tab. A (B,) long tensor."""
    import torch

    if profile is None or profile.quantile(name, 0.5) is None:
        return None
    shares = (torch.rand(batch, generator=generator, device=device) * TYPICAL).tolist()
    sizes = [max(floor, math.ceil(profile.quantile(name, q))) for q in shares]
    return torch.tensor(sizes, dtype=torch.long, device=device)


def quantiles(points: Iterable[float]) -> list[float]:
    ordered = sorted(points)
    if not ordered:
        return [0.0] * QUANTILES
    last = len(ordered) - 1
    out = []
    for i in range(QUANTILES):
        position = i / (QUANTILES - 1) * last
        low = math.floor(position)
        high = min(low + 1, last)
        out.append(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
    return out


def profile_of(texts: Iterable[str], codec) -> CorpusProfile:
    """The profile of pieces already in a corpus (for corpora built before profiles existed)."""
    builder = ProfileBuilder()
    for text in texts:
        builder.add(text, codec.piece_facts(text))
    return builder.build()
