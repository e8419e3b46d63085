"""Spelling a bar's rhythm as Guitar Pro beats: which stretches are tuplets, which durations add
up to each span, and where an overlong bar is cut into measures.

Guitar Pro readers (Guitar Pro, TuxGuitar, MuseScore, alphaTab) group tuplet beats by adding
them up until a whole tuplet is complete, so a tuplet must fill its *window*: an aligned stretch
of a power-of-two length (a quarter for eighth triplets, a whole note for quarter quintuplets)
whose every beat is a tuplet of the same kind. Grids with a factor 3 hold triplets, with a
factor 5 quintuplets (7, 9, 11, 13 likewise); a window cannot hold two kinds (Guitar Pro has no
15-tuplet) and nothing is shorter than a 64th, so onsets that would need that are moved to the
nearest position Guitar Pro can write (`expressible_steps`).

MuseScore 3 and alphaTab refuse or drop a measure of more than 100 beats; longer bars are cut
into several measures at positions outside any window (`measure_cuts`).
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

WHOLE_TICKS = 3840  # Guitar Pro's ticks in a whole note (960 a quarter)
# n notes in the time of m: Guitar Pro's tuplets (its 6, 10 and 12 are the 3 and 5 of a window
# half or a quarter as long)
TUPLETS = {3: 2, 5: 4, 7: 4, 9: 8, 11: 8, 13: 8}
SHORTEST = Fraction(1, 64)  # Guitar Pro's shortest written value
MAX_BEATS = 100  # per measure and voice: alphaTab refuses more, MuseScore 3 drops the notes
_VALUES = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Written:
    """One beat's duration: `value` 1 (whole) … 64, dotted or not, in a tuplet n:m or not."""

    value: int
    dotted: bool = False
    tuplet: tuple[int, int] = (1, 1)

    @property
    def length(self) -> Fraction:
        """Sounding length in whole notes."""
        base = Fraction(1, self.value) * (Fraction(3, 2) if self.dotted else 1)
        return base * Fraction(self.tuplet[1], self.tuplet[0])


@dataclass(frozen=True)
class Window:
    """An aligned stretch [start, start + length) of a bar filled with n:m tuplets."""

    start: Fraction
    length: Fraction
    n: int

    @property
    def end(self) -> Fraction:
        return self.start + self.length

    @property
    def unit(self) -> Fraction:
        return self.length / self.n

    def holds(self, x: Fraction) -> bool:
        return self.start < x < self.end


def _is_plain(x: Fraction) -> bool:
    """A position a plain (non-tuplet) duration can reach: a power-of-two denominator."""
    d = x.denominator
    return d & (d - 1) == 0


def _window_lengths(bar: Fraction) -> list[Fraction]:
    """Power-of-two lengths from a whole note down to a 32nd (the shortest window whose
    written unit, a 64th triplet, Guitar Pro has), longest first, that fit the bar."""
    return [Fraction(1, 2**k) for k in range(6) if Fraction(1, 2**k) <= bar]


def _pure(start: Fraction, length: Fraction, inside: list[Fraction]) -> int | None:
    """The tuplet n that puts every boundary inside the window on its units, if one does."""
    for n, m in TUPLETS.items():
        if length / m < SHORTEST:
            continue
        if all(((x - start) * n / length).denominator == 1 for x in inside):
            return n
    return None


def tuplet_windows(boundaries: list[Fraction], bar: Fraction) -> list[Window] | None:
    """Windows covering every boundary that plain durations cannot reach: for each such
    boundary the longest aligned window that one tuplet fills. None when a boundary fits no
    window (it needs a triplet and a quintuplet at once)."""
    windows: list[Window] = []
    for x in sorted(boundaries):
        if _is_plain(x) or any(w.holds(x) for w in windows):
            continue
        found = None
        for length in _window_lengths(bar):
            start = (x // length) * length
            if start + length > bar:
                continue
            inside = [b for b in boundaries if start < b < start + length]
            n = _pure(start, length, inside)
            if n is not None:
                found = Window(start, length, n)
                break
        if found is None:
            return None
        windows = [w for w in windows if not (found.start <= w.start < found.end)]
        windows.append(found)
    return sorted(windows, key=lambda w: w.start)


@functools.lru_cache(maxsize=4096)
def plain_durations(length: Fraction, tuplet: tuple[int, int] = (1, 1)) -> tuple[Written, ...]:
    """Durations (dotted allowed outside tuplets) adding up to `length` whole notes: one if one
    fits exactly, else the longest that fits and then the rest."""
    scale = Fraction(tuplet[1], tuplet[0])
    found: list[Written] = []
    rest = length
    while rest > 0:
        options = [
            Written(v, d, tuplet)
            for v in _VALUES
            for d in ((False,) if tuplet != (1, 1) else (False, True))
        ]
        exact = [w for w in options if w.length == rest]
        if exact:
            found.append(exact[0])
            break
        fitting = [v for v in _VALUES if Fraction(1, v) * scale <= rest]
        if not fitting:
            raise ValueError(f"{rest} whole notes cannot be written")
        found.append(Written(fitting[0], False, tuplet))
        rest -= found[-1].length
    return tuple(found)


def span_durations(start: Fraction, end: Fraction, windows: list[Window]) -> list[Written]:
    """Durations for [start, end): tuplets inside windows, plain durations between them (a
    span crossing a window's edge is cut there and tied)."""
    result: list[Written] = []
    position = start
    while position < end:
        window = next((w for w in windows if w.start <= position < w.end), None)
        if window is None:
            following = min((w.start for w in windows if w.start > position), default=end)
            stop = min(end, following)
            result.extend(plain_durations(stop - position))
        else:
            stop = min(end, window.end)
            m = TUPLETS[window.n]
            result.extend(plain_durations(stop - position, (window.n, m)))
        position = stop
    return result


def expressible_steps(steps: list[int], grid: int, bar_steps: int) -> dict[int, int]:
    """Where the boundaries of a bar (grid steps from its start) that no Guitar Pro rhythm can
    reach move; empty when every one can be written. Windows never cross a whole note from the
    bar's start, so each whole note is settled on its own: its boundaries, left to right, keep
    their place if a window that holds them can be made smallest-first, else move to the
    nearest unit of the window they fall in, or to the nearest plain note value."""
    bar = Fraction(bar_steps, grid)
    moves: dict[int, int] = {}
    regions: dict[int, list[int]] = {}
    for step in sorted(set(steps)):
        regions.setdefault(step // grid, []).append(step)
    plain = Fraction(1, math.gcd(grid, 64))  # the finest plain value on the grid
    for region, inside in regions.items():
        points = [Fraction(s, grid) for s in inside]
        if tuplet_windows(points, bar) is not None:
            continue
        top = min(Fraction(region + 1), bar)
        windows: list[Window] = []
        kept: list[Fraction] = []
        for x in points:
            placed = _place(x, kept, windows, top, grid, plain)
            kept.append(placed)
            if placed != x:
                moves[int(x * grid)] = int(placed * grid)
    return moves


def _place(
    x: Fraction,
    kept: list[Fraction],
    windows: list[Window],
    top: Fraction,
    grid: int,
    plain: Fraction,
) -> Fraction:
    """Where boundary x goes, given the boundaries and windows before it (see
    expressible_steps); a new window is added to `windows` when one holds x."""

    def snap(unit: Fraction, low: Fraction, high: Fraction) -> Fraction:
        return min(max(low + round((x - low) / unit) * unit, low), high)

    window = next((w for w in windows if w.start <= x < w.end), None)
    if window is not None:
        return snap(window.unit, window.start, window.end)
    if (x / plain).denominator == 1:
        return x
    for length in reversed(_window_lengths(top)):  # smallest first: fewer later conflicts
        start = (x // length) * length
        if start + length > top:
            continue
        inside = [b for b in (*kept, x) if start < b < start + length]
        n = _pure(start, length, inside)
        if n is not None and (length / n * grid).denominator == 1:
            windows.append(Window(start, length, n))
            return x
    nearest = snap(plain, x - x % plain, top)
    window = next((w for w in windows if w.start < nearest < w.end), None)
    return snap(window.unit, window.start, window.end) if window else nearest


def measure_cuts(
    starts: list[Fraction],
    bar: Fraction,
    windows: list[Window],
    statable: Callable[[Fraction], bool],
) -> list[Fraction] | None:
    """Where to cut a bar whose beats start at `starts` into measures of at most MAX_BEATS
    beats: at beat starts outside every window, each measure's length one that `statable`
    accepts; as few measures as the greedy choice of the farthest cut gives. None if no such
    cuts exist."""
    if len(starts) <= MAX_BEATS:
        return []
    outside = [i for i in range(1, len(starts)) if not any(w.holds(starts[i]) for w in windows)]
    cuttable = [0, *outside]
    positions = [*starts, bar]
    end = len(starts)
    following: dict[int, int] = {end: end}  # cut index → the next cut on a way to the end
    for index in reversed(range(len(cuttable))):
        j = cuttable[index]
        reach = bisect_right(cuttable, j + MAX_BEATS)
        for k in [end, *reversed(cuttable[index + 1 : reach])]:
            if k - j <= MAX_BEATS and k in following and statable(positions[k] - positions[j]):
                following[j] = k
                break
    if 0 not in following:
        return None
    cuts, index = [], following[0]
    while index != end:
        cuts.append(positions[index])
        index = following[index]
    return cuts
