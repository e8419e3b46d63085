"""The characters of the tab codec's text and what its header can state: a cell per string
(a fret, a rest, a sustain, a dead note), a technique mark per string, the punctuation of groups
and bars, and the time signatures and tempos the header spells. The full grammar, with examples,
is codecs/tab/README.md; `encoder` writes the text and `decoder` reads it.
"""

from __future__ import annotations

# -- cells and marks ------------------------------------------------------------------------

# frets 0-9, 10-24 as a-o, 25-36 as A-L (Guitar Pro files go past the 24th fret, e.g. for
# harmonics or extended-range necks)
FRET_CHARS = "0123456789abcdefghijklmno" + "ABCDEFGHIJKL"
HIGHEST_FRET = len(FRET_CHARS) - 1  # 36: the highest fret the text can hold
MAX_FRET = 24  # the frets of a usual neck: MIDI and ABC melodies are fingered below it
REST = "-"  # nothing struck, nothing sounding on this string
SUSTAIN = "="  # the note struck earlier on this string still sounds (ties, let ring)
DEAD = "x"  # a muted strike whose fret is unknown (ASCII tabs write dead notes as x)
CELL_CHARS = frozenset(FRET_CHARS + REST + SUSTAIN + DEAD)

NO_MARK = "-"
LEGATO = "h"  # hammer-on or pull-off into this note from the previous note on the string
SLIDE = "/"  # slide into this note (from the previous note on the string, else from below)
BEND = "b"  # bent up a whole tone
BEND_RELEASE = "r"  # bent up a whole tone and released
VIBRATO = "~"
PALM_MUTE = "m"
HARMONIC = "*"  # natural harmonic
MUTED = "x"  # a dead note struck with the hand at this fret (Guitar Pro keeps the fret)
MARK_CHARS = frozenset(
    NO_MARK + LEGATO + SLIDE + BEND + BEND_RELEASE + VIBRATO + PALM_MUTE + HARMONIC + MUTED
)
# When a source note carries several techniques, the text keeps the first of these (a dead
# note is a kind of strike, not a technique: it always wins).
MARK_PRIORITY = (MUTED, LEGATO, SLIDE, BEND_RELEASE, BEND, HARMONIC, VIBRATO, PALM_MUTE)

# -- groups, bars and the header ------------------------------------------------------------

GROUP_END = "."
MARKS_START = ":"
BAR_END = "|"
DENOMINATORS = (1, 2, 4, 8, 16, 32)
SIGNATURE_DENOMINATORS = (4, 8, 16, 32, 2, 1)  # for bars of odd lengths, quarters first
MAX_NUMERATOR = 32
TEMPO_RANGE = (20, 400)


def bar_signature(
    steps: int, grid: int, nominal: tuple[int, int] | None = None
) -> tuple[int, int] | None:
    """The time signature of a bar of `steps` grid steps (the piece's own when the bar is full
    length), or None if no time signature states it."""
    if nominal is not None and steps == nominal[0] * grid // nominal[1]:
        return nominal
    for den in SIGNATURE_DENOMINATORS:
        if (steps * den) % grid == 0:
            num = steps * den // grid
            if 1 <= num <= MAX_NUMERATOR:
                return num, den
    return None


def bar_signature_steps(steps: int, grid: int) -> int | None:
    """The fewest steps ≥ `steps` that a time signature can state, if within one whole note."""
    for candidate in range(steps, steps + grid + 1):
        if bar_signature(candidate, grid) is not None:
            return candidate
    return None
