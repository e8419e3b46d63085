"""How close a fingering comes to the one a person wrote: strip the strings and frets from a human
tab, finger its pitches again, and count what agrees. The benchmark (benchmarks/fingering.py)
and the fingering tests judge the fingering model with it.

Measures, per part and summed over parts:
- agreement: notes given the same string and fret as the human wrote, of all notes, of notes
  struck alone (single-note lines) and of notes struck together (chords);
- chords that fit one hand: every note placed, fretted notes at most `MAX_SPAN` frets apart;
- hand movement: frets the hand moves per bar, for a hand that moves only when a note lies
  outside the four frets under its fingers (`hand_shifts`);
- speed: notes fingered per CPU second.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rnnmusic.codecs.tab.alphabet import MAX_FRET
from rnnmusic.codecs.tab.fingering import MAX_SPAN, PitchedNote
from rnnmusic.codecs.tab.model import Tab, TabNote

# (notes, tuning, General MIDI program or None) → the notes on strings and frets
Fingerer = Callable[[list[PitchedNote], tuple[int, ...], "int | None"], list[TabNote]]
HAND = 4  # frets under the four fingers of a hand that does not stretch


@dataclass
class HumanPart:
    """One instrument's part as a person fingered it: struck, pitched notes only."""

    name: str
    tuning: tuple[int, ...]  # lowest string first
    notes: list[TabNote]
    bar_starts: list[int] = field(default_factory=list)
    program: int | None = None  # General MIDI program, where the file names one
    source: Path = Path()  # the file it was read from

    def pitched(self) -> list[PitchedNote]:
        return [PitchedNote(n.start, self.tuning[n.string] + n.fret, n.length) for n in self.notes]


def part_from_tab(tab: Tab, name: str, source: Path = Path()) -> HumanPart:
    notes = [n for n in tab.notes() if n.fret is not None and n.string < len(tab.tuning)]
    return HumanPart(name, tab.tuning, notes, tab.bar_starts(), source=source)


def lowest_fret(
    notes: list[PitchedNote], tuning: tuple[int, ...], program: int | None = None
) -> list[TabNote]:
    """The naive baseline: each note on the string where its fret is lowest; in a chord, the
    highest note chooses first and a taken string passes to the next-lowest fret."""
    result = []
    by_start: dict[int, list[PitchedNote]] = {}
    for note in notes:
        by_start.setdefault(note.start, []).append(note)
    for start, struck in by_start.items():
        used: set[int] = set()
        for note in sorted(struck, key=lambda n: -n.pitch):
            options = sorted(
                (note.pitch - open_, s)
                for s, open_ in enumerate(tuning)
                if s not in used and 0 <= note.pitch - open_ <= MAX_FRET
            )
            if options:
                fret, string = options[0]
                used.add(string)
                result.append(TabNote(start, string, fret, note.length))
    return result


def hand_shifts(notes: Iterable[TabNote]) -> int:
    """Frets a lazy hand moves: its index finger sits at one fret and covers `HAND` frets; it
    moves only as far as the next fretted notes need (to their lowest fret when they span more
    than the hand). Open strings never move it."""
    by_start: dict[int, list[int]] = {}
    for note in notes:
        if note.fret:
            by_start.setdefault(note.start, []).append(note.fret)
    moved, position = 0, None
    for start in sorted(by_start):
        low, high = min(by_start[start]), max(by_start[start])
        if position is None:
            position = low
            continue
        target = position
        if low < position or high - low >= HAND:
            target = low
        elif high >= position + HAND:
            target = high - HAND + 1
        moved += abs(target - position)
        position = target
    return moved


def fits_one_hand(frets: list[int]) -> bool:
    fretted = [f for f in frets if f > 0]
    return not fretted or max(fretted) - min(fretted) <= MAX_SPAN


@dataclass
class Score:
    """Counts, so that scores of parts add up."""

    notes: int = 0
    agree: int = 0
    single: int = 0
    single_agree: int = 0
    chord_notes: int = 0
    chord_agree: int = 0
    dropped: int = 0
    chords: int = 0
    chords_one_hand: int = 0
    human_chords_one_hand: int = 0
    bars: int = 0
    moved: int = 0
    human_moved: int = 0
    seconds: float = 0.0

    def __add__(self, other: Score) -> Score:
        return Score(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    @staticmethod
    def share(part: int, whole: int) -> float:
        return part / whole if whole else float("nan")

    @property
    def agreement(self) -> float:
        return self.share(self.agree, self.notes)

    @property
    def single_agreement(self) -> float:
        return self.share(self.single_agree, self.single)

    @property
    def chord_agreement(self) -> float:
        return self.share(self.chord_agree, self.chord_notes)

    @property
    def one_hand(self) -> float:
        return self.share(self.chords_one_hand, self.chords)

    @property
    def shift_per_bar(self) -> float:
        return self.share(self.moved, self.bars)

    @property
    def notes_per_second(self) -> float:
        return self.notes / self.seconds if self.seconds else float("inf")


def score(part: HumanPart, fingerer: Fingerer) -> Score:
    """Finger the part's pitches with `fingerer` and compare with what the person wrote."""
    pitched = part.pitched()
    began = time.process_time()
    fingered = fingerer(pitched, part.tuning, part.program)
    seconds = time.process_time() - began
    ours = Counter((n.start, n.string, n.fret) for n in fingered)
    theirs: dict[int, list[TabNote]] = {}
    for note in part.notes:
        theirs.setdefault(note.start, []).append(note)
    placed: dict[int, list[int]] = {}
    for note in fingered:
        placed.setdefault(note.start, []).append(note.fret)
    result = Score(notes=len(part.notes), seconds=seconds, bars=max(1, len(part.bar_starts)))
    for start, struck in theirs.items():
        agree = 0
        for note in struck:
            key = (start, note.string, note.fret)
            if ours[key]:
                ours[key] -= 1
                agree += 1
        result.agree += agree
        frets = placed.get(start, [])
        result.dropped += max(0, len(struck) - len(frets))
        if len(struck) == 1:
            result.single += 1
            result.single_agree += agree
            continue
        result.chord_notes += len(struck)
        result.chord_agree += agree
        result.chords += 1
        result.chords_one_hand += len(frets) == len(struck) and fits_one_hand(frets)
        result.human_chords_one_hand += fits_one_hand([n.fret for n in struck])
    result.moved = hand_shifts(fingered)
    result.human_moved = hand_shifts(part.notes)
    return result
