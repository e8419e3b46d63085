"""The tab codec's musical model: a grid of columns, one character per string, plus the notes it
holds. Every reader builds a `Tab` from notes; every writer reads the notes back out of one.

A column is what the text shows for one grid step: `cells` has one character per string (lowest,
thickest string first) and `marks` one technique character per string. Keeping the model this
close to the text makes encode and decode exact by construction; the musical meaning lives in
`Tab.notes()` and `tab_from_notes()`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

from rnnmusic.codecs.tab.alphabet import DEAD, FRET_CHARS, MUTED, NO_MARK, REST, SUSTAIN

# Steps per whole note. Triplets need a multiple of 3, quintuplets of 5, both of 15; 32nds a
# multiple of 32. GRIDS are the usual ones (what `--grid` offers and strict sampling writes);
# the text also takes any grid `is_grid` accepts, for the rare file that needs one (a
# 13-tuplet, 32nd quintuplets with triplets). Readers of exact sources (Guitar Pro, MIDI, ABC)
# pick per file the coarsest grid from 16 up that holds every onset (`choose_grid`), so most
# pieces stay on 16.
GRIDS = (8, 12, 16, 20, 24, 32, 40, 48, 60, 64, 80, 96)
DEFAULT_GRID = 16
MAX_GRID = 960
TUPLET_PRIMES = (3, 5, 7, 11, 13)  # Guitar Pro's tuplets: 3, 5, 6, 7, 9, 10, 11, 12, 13
MIN_STRINGS, MAX_STRINGS = 4, 7  # Guitar Pro 3-5 tracks hold at most seven strings

# -- tunings --------------------------------------------------------------------------------

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_PITCH = re.compile(r"([A-G])(#|b)?(-?\d)")

STANDARD = (40, 45, 50, 55, 59, 64)  # E2 A2 D3 G3 B3 E4
TUNINGS: dict[str, tuple[int, ...]] = {
    "standard": STANDARD,
    "drop-d": (38, 45, 50, 55, 59, 64),
    "seven-string": (35, 40, 45, 50, 55, 59, 64),
    "bass": (28, 33, 38, 43),
    "bass5": (23, 28, 33, 38, 43),
}


def pitch_name(pitch: int) -> str:
    """MIDI pitch as a note name with sharps: 40 → 'E2'."""
    octave, semitone = divmod(pitch, 12)
    return f"{NOTE_NAMES[semitone]}{octave - 1}"


def parse_pitches(text: str) -> list[int] | None:
    """'E2A2D3' → [40, 45, 50]; None unless the whole text is note names."""
    pitches, position = [], 0
    for match in _PITCH.finditer(text):
        if match.start() != position:
            return None
        letter, accidental, octave = match.groups()
        pitch = NOTE_NAMES.index(letter) + (12 * (int(octave) + 1))
        pitch += {"#": 1, "b": -1}.get(accidental or "", 0)
        pitches.append(pitch)
        position = match.end()
    return pitches if position == len(text) and pitches else None


def signature_fits(signature: tuple[int, int], grid: int) -> bool:
    """True when a bar of this time signature is a whole number of grid steps."""
    num, den = signature
    return num > 0 and den > 0 and (num * grid) % den == 0


def fret_char(fret: int) -> str:
    return FRET_CHARS[fret]


def is_grid(grid: int) -> bool:
    """A grid the text can state: 4 to MAX_GRID steps a whole note, a power of two times odd
    factors that Guitar Pro's tuplets spell (each prime at most twice: 9-tuplets)."""
    if not 4 <= grid <= MAX_GRID:
        return False
    odd = grid
    while odd % 2 == 0:
        odd //= 2
    for prime in TUPLET_PRIMES:
        for _ in range(2):
            if odd % prime == 0:
                odd //= prime
    return odd == 1


def choose_grid(
    onsets: Iterable[Fraction], bar_lengths: Iterable[Fraction] = (), fallback: int | None = None
) -> int:
    """The coarsest grid from DEFAULT_GRID up on which every onset (in whole notes) and every
    bar length falls exactly: one of GRIDS if one does, else the least common multiple of
    their denominators if the text can state it; else `fallback`, or without one the grid of
    GRIDS on which the fewest onsets move."""
    points = set(onsets) | set(bar_lengths)
    candidates = [g for g in GRIDS if g >= DEFAULT_GRID]

    def moved(grid: int) -> int:
        return sum((x * grid).denominator != 1 for x in points)

    exact = [g for g in candidates if moved(g) == 0]
    if exact:
        return exact[0]
    needed = lcm(*(x.denominator for x in points))
    while needed < DEFAULT_GRID:
        needed *= 2
    if is_grid(needed):
        return needed
    return fallback or min(candidates, key=lambda g: (moved(g), g))


# -- the grid -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One grid step: a character per string and a technique mark per string."""

    cells: str
    marks: str

    @classmethod
    def empty(cls, strings: int) -> Column:
        return cls(REST * strings, NO_MARK * strings)

    @property
    def has_marks(self) -> bool:
        return self.marks.strip(NO_MARK) != ""


@dataclass(frozen=True)
class TabNote:
    """A note on the grid: `start` and `length` in steps from the start of the piece."""

    start: int
    string: int  # 0 = the lowest (thickest) string
    fret: int | None  # None: a dead note of unknown fret
    length: int = 1
    mark: str = NO_MARK  # MUTED: a dead note at `fret`

    @property
    def end(self) -> int:
        return self.start + self.length

    @property
    def dead(self) -> bool:
        return self.fret is None or self.mark == MUTED


@dataclass
class Tab:
    tuning: tuple[int, ...] = STANDARD
    grid: int = DEFAULT_GRID
    time_signature: tuple[int, int] | None = None
    tempo: int | None = None
    bars: list[list[Column]] = field(default_factory=list)

    @property
    def strings(self) -> int:
        return len(self.tuning)

    @property
    def nominal_bar(self) -> int:
        """Steps in a bar of the time signature (4/4 when unknown)."""
        num, den = self.time_signature or (4, 4)
        return max(1, num * self.grid // den)

    def bar_starts(self) -> list[int]:
        starts, position = [], 0
        for bar in self.bars:
            starts.append(position)
            position += len(bar)
        return starts

    @property
    def length(self) -> int:
        return sum(len(bar) for bar in self.bars)

    def columns(self) -> list[Column]:
        return [column for bar in self.bars for column in bar]

    def notes(self) -> list[TabNote]:
        """Every strike with its length: it lasts while the string shows the sustain mark."""
        notes: list[TabNote] = []
        open_notes: dict[int, TabNote] = {}
        for step, column in enumerate(self.columns()):
            for string, cell in enumerate(column.cells):
                if cell == SUSTAIN and string in open_notes:
                    held = open_notes[string]
                    open_notes[string] = TabNote(
                        held.start, string, held.fret, held.length + 1, held.mark
                    )
                    continue
                if string in open_notes:
                    notes.append(open_notes.pop(string))
                if cell in FRET_CHARS or cell == DEAD:
                    fret = None if cell == DEAD else FRET_CHARS.index(cell)
                    open_notes[string] = TabNote(step, string, fret, 1, column.marks[string])
        notes.extend(open_notes.values())
        notes.sort(key=lambda n: (n.start, n.string))
        return notes

    def pitch(self, note: TabNote) -> int | None:
        """The pitch of a fretted note (also of a dead note whose fret is known)."""
        return None if note.fret is None else self.tuning[note.string] + note.fret

    def played_pitch(self, note: TabNote) -> int:
        """What Guitar Pro players sound: a dead note of unknown fret is written (and so
        played, short and muted) at fret 0."""
        return self.tuning[note.string] + (note.fret or 0)


def tab_from_notes(
    notes: list[TabNote],
    bar_lengths: list[int],
    tuning: tuple[int, ...] = STANDARD,
    grid: int = DEFAULT_GRID,
    time_signature: tuple[int, int] | None = None,
    tempo: int | None = None,
) -> Tab:
    """Lay notes on the grid. A later strike on a string ends the note sounding there (one string
    never holds two notes); bars of the nominal length are added for notes past the last bar."""
    tab = Tab(tuning=tuning, grid=grid, time_signature=time_signature, tempo=tempo)
    bar_lengths = [n for n in bar_lengths if n > 0]
    total = sum(bar_lengths)
    end = max((n.end for n in notes), default=0)
    while total < end:
        bar_lengths.append(tab.nominal_bar)
        total += tab.nominal_bar
    strings = len(tuning)
    cells = [[REST] * strings for _ in range(total)]
    marks = [[NO_MARK] * strings for _ in range(total)]
    by_string: dict[int, list[TabNote]] = {}
    for note in notes:
        if 0 <= note.string < strings and 0 <= note.start < total:
            by_string.setdefault(note.string, []).append(note)
    for string, string_notes in by_string.items():
        string_notes.sort(key=lambda n: n.start)
        starts = [n.start for n in string_notes]
        for index, note in enumerate(string_notes):
            if index and string_notes[index - 1].start == note.start:
                continue  # two strikes at once on one string: the first wins
            later = bisect_right(starts, note.start)  # linear time on huge tabs
            cut = starts[later] if later < len(starts) else total
            cells[note.start][string] = DEAD if note.fret is None else fret_char(note.fret)
            marks[note.start][string] = note.mark
            for step in range(note.start + 1, min(note.end, cut, total)):
                cells[step][string] = SUSTAIN
    columns = [Column("".join(c), "".join(m)) for c, m in zip(cells, marks, strict=True)]
    position = 0
    for length in bar_lengths:
        tab.bars.append(columns[position : position + length])
        position += length
    return tab
