"""The event list a tune is played from: one `Feature` per note, rest, bar line, chord bracket…

The list has the shape abc2midi gives a tune before it plays it (notes carry lengths in quarter
notes, a tie is a feature of its own, bar lines and endings are features the player walks over
and jumps back to), so each later pass (grace notes, ties, repeats, trills) can follow what
abc2midi does to the same tune, step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

ZERO = Fraction(0)

# kinds of feature
NOTE = "note"
TNOTE = "tied note"  # a note that sounds on through the notes tied to it (they become rests)
REST = "rest"
CHORD_ON = "["
CHORD_OFF = "]"  # the chord lasts as long as its first note
CHORD_OFF_LENGTH = "]n"  # "[CE]2": the chord's own length, given to every note in it
GRACE_ON = "{"
GRACE_OFF = "}"
TIE = "-"
OLD_TIE = "-old"  # a tie already joined into a tied note
SLUR_ON = "("
SLUR_OFF = ")"
SLUR_NOTE = "slurred"
SINGLE_BAR = "|"
DOUBLE_BAR = "||"  # also |] and [|
BAR_REP = "|:"
REP_BAR = ":|"
DOUBLE_REP = "::"
PLAY_ON_REP = "[n"  # an ending: which passes play the music up to the next section line
MUSIC_LINE = "line"  # the first line of music (the player puts a || there)
CHORD_SYMBOL = "chord symbol"
METER = "M:"
ARPEGGIO = "arpeggio"
DYNAMIC = "dynamic"
DROPPED = "dropped"  # grace notes abc2midi leaves out (no room for them, or a bar line first)

BAR_KINDS = frozenset({SINGLE_BAR, DOUBLE_BAR, BAR_REP, REP_BAR, DOUBLE_REP})


@dataclass(frozen=True)
class Trill:
    """What a trilled note becomes later: its pitch alternating with the note a step above
    (the key's step, not the bar's accidentals), in notes no longer than about 1/20 beat."""

    upper: int


@dataclass(frozen=True)
class ChordName:
    """A chord symbol as the accompaniment reads it: root and bass as semitones above C (the
    bass -1 when none is written), the chord's intervals, and whether the name was known."""

    root: int
    bass: int
    intervals: tuple[int, ...]
    known: bool


@dataclass(slots=True)
class Feature:
    kind: str
    pitch: int = 0  # MIDI pitch of a note (the tied note's for a rest that was a tied note)
    # quarter notes for notes, rests and chord ends; None for the rest (abc2midi's 0/0, which a
    # broken rhythm's check for equal lengths lets through)
    length: Fraction | None = None
    natural: int = 0  # the pitch without any accidental (ties across bar lines match on it)
    trill: Trill | None = None
    endings: str = ""  # PLAY_ON_REP: "2", "1,3", "1-2"
    chord: ChordName | None = None
    meter: tuple[int, int] | None = None
    velocities: tuple[int, int, int] | None = None  # DYNAMIC: loud, medium and soft notes

    @property
    def sounds(self) -> bool:
        return self.kind in (NOTE, TNOTE)


@dataclass
class PlayedNote:
    """A note as it sounds: ticks (480 a quarter note), pitch, MIDI channel, velocity."""

    start: int
    end: int
    pitch: int
    channel: int
    velocity: int
