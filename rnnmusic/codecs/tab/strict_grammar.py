"""The tab text as a state machine for strict sampling: which character may come next.

Header states carry what the rest of the header needs (the grid, a numerator, digits so far);
body states carry the grid, the number of strings N and the position in the group. Each move
comes with an `Action`: the one requirement it makes of the sample's memory (a sounding note
for `=`, a fretted note now and before for `h`, room in the bar for a new group, a statable bar
length for `|`) and what it changes there. strict.py compiles this over a vocabulary.

Only the canonical subset of the header the decoder accepts is spelled: tokens in the order
g m q t, numbers without leading zeros, note names with sharps only (never E#, B#) and octaves
0-6, so that fret 24 on the highest string is still a MIDI pitch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from rnnmusic.codecs.tab.alphabet import (
    BAR_END,
    DEAD,
    DENOMINATORS,
    FRET_CHARS,
    GROUP_END,
    LEGATO,
    MARK_CHARS,
    MARKS_START,
    MAX_NUMERATOR,
    NO_MARK,
    PALM_MUTE,
    REST,
    SUSTAIN,
    TEMPO_RANGE,
    bar_signature,
)
from rnnmusic.codecs.tab.model import GRIDS, MAX_STRINGS, MIN_STRINGS, STANDARD, parse_pitches
from rnnmusic.codecs.tab.profile import (  # noqa: E402
    GRID,
    METER,
    NO_METER,
    NO_TEMPO,
    STANDARD_TUNING,
    TEMPO,
    TUNING,
)
from rnnmusic.profile import COVERAGE  # noqa: E402

DIGITS = "0123456789"
NOTE_LETTERS = "CDEFGAB"
SHARPABLE = "CDFGA"
TUNING_OCTAVES = "0123456"
SEPARATOR = "\n\n"
BAR_TAIL = len(BAR_END + SEPARATOR)  # what ends the last bar and the piece
TEMPO_DIGITS = len(str(TEMPO_RANGE[1]))  # the most digits a tempo takes

# per-string bits
SOUNDING, FRET_NOW, DEAD_NOW, FRETTED_BEFORE = 1, 2, 4, 8
CELL_BITS = {REST: 0, SUSTAIN: SOUNDING, DEAD: SOUNDING | DEAD_NOW}
CELL_BITS.update({ch: SOUNDING | FRET_NOW for ch in FRET_CHARS})

# what a character requires of the sample (one per transition)
NONE, SOUNDS, FRETTED, STRUCK, LEGATO_OK, ROOM, ROOM_SOUNDS, BAR_FULL, FORBIDDEN = range(9)
ALWAYS_AVAILABLE = (NONE, ROOM, BAR_FULL)  # on the shortest way to the end, these always hold

# bar lengths are tabled per grid up to the longest any time signature states (32 whole notes)
STRIDE = MAX_NUMERATOR * max(GRIDS) + 2


@dataclass(frozen=True)
class Action:
    """What one character requires, and what it does to the sample's memory."""

    need: int = NONE
    cell: int = -1  # the string bits this cell writes on the state's string (-1: not a cell)
    group_end: bool = False
    bar_end: bool = False
    bar_max: int = -1  # the longest bar the header allows, once it is known


# -- bar lengths the decoder keeps as they are ----------------------------------------------


@functools.cache
def statable(steps: int, grid: int) -> bool:
    """True when a time signature states a bar of this many steps (the decoder pads others)."""
    return steps >= 1 and bar_signature(steps, grid) is not None


def shortest_bar(grid: int) -> int:
    return next(n for n in range(1, grid + 1) if statable(n, grid))


def _viable(value: int, low: int, high: int, most_digits: int) -> bool:
    """Some number that starts with the digits of `value` lies in [low, high]."""
    lo = hi = value
    for _ in range(most_digits - len(str(value)) + 1):
        if hi >= low and lo <= high:
            return True
        lo, hi = lo * 10, hi * 10 + 9
    return False


# -- the syntax -----------------------------------------------------------------------------


TOKEN_ORDER = "gmqt"


# The machine's states. Each is a tuple whose first field names its kind, so states hash and
# compare as the plain tuples they are (the table compiler only needs that); the field names say
# what the other positions hold.


class Plain(NamedTuple):
    """A state that is its kind alone: "start" (the header's "g" to come) and "done"."""

    kind: str


class GridDigits(NamedTuple):
    """The grid's number being spelled ("g")."""

    kind: str
    written: str  # the digits so far


class Gap(NamedTuple):
    """The space after a header token: the next token's letter to come ("gap")."""

    kind: str
    grid: int
    last: str  # the letter of the token before the space (one of TOKEN_ORDER)


class Number(NamedTuple):
    """A time signature's numerator ("m") or a tempo ("q") being spelled."""

    kind: str
    grid: int
    value: int  # the number so far (0: no digit yet)


class Denominator(NamedTuple):
    """A time signature's denominator being spelled, after its "/" ("m/")."""

    kind: str
    grid: int
    numerator: int
    written: str  # the denominator's digits so far


class TuningOf(NamedTuple):
    """A tuning spelled as one of the training tabs' tunings ("t", with a profile's tunings)."""

    kind: str
    grid: int
    written: str  # the tuning so far


class Tuning(NamedTuple):
    """Between a tuning's note names: after "t" or an octave ("t", the next letter or the
    newline to come), or after a sharp ("t#", the octave to come)."""

    kind: str
    grid: int
    strings: int  # the note names completed so far


class TuningNote(NamedTuple):
    """Just after a tuning note's letter ("t."): a sharp or the octave to come."""

    kind: str
    grid: int
    strings: int  # the note names completed before this one
    sharpable: bool  # the letter takes a sharp (C D F G A)


class Body(NamedTuple):
    """In the body, between groups or at a group's or bar's end: "bar" (a bar's first group to
    come), "full" (all N cells written: ":" or "." to come), "marked" (all N marks written),
    "next" (after "."), "barend" (after "|"), "nl" (after the bar's newline)."""

    kind: str
    grid: int
    strings: int  # N: cells (and marks) in each group


class InGroup(NamedTuple):
    """Inside a group: its cells ("cell") or its marks after ":" ("mark") being written."""

    kind: str
    grid: int
    strings: int  # N: cells (and marks) in each group
    written: int  # cells (or marks) written so far: the string the next one concerns


DONE = Plain("done")


@dataclass(frozen=True)
class Settings:
    """The header values a sample may spell. None: any the grammar allows; with a corpus
    profile, the ones its training tabs use (NO_METER / NO_TEMPO / STANDARD_TUNING in a set:
    the token may be left out)."""

    grids: frozenset[int] = frozenset(GRIDS)
    meters: frozenset[str] | None = None
    tempos: frozenset[str] | None = None
    tunings: frozenset[str] | None = None

    @classmethod
    def from_profile(cls, profile) -> Settings:
        if profile is None:
            return cls()
        grids = frozenset(
            int(g) for g in profile.allowed(GRID, COVERAGE) or () if g.isdigit() and int(g) in GRIDS
        )
        return cls(
            grids=grids or frozenset(GRIDS),
            meters=profile.allowed(METER, COVERAGE),
            tempos=profile.allowed(TEMPO, COVERAGE),
            tunings=profile.allowed(TUNING, COVERAGE),
        )

    def may_skip(self, token: str) -> bool:
        absent = {"m": (self.meters, NO_METER), "q": (self.tempos, NO_TEMPO)}
        absent["t"] = (self.tunings, STANDARD_TUNING)
        values, marker = absent[token]
        return values is None or marker in values

    def may_spell(self, token: str) -> bool:
        values, marker = {
            "m": (self.meters, NO_METER),
            "q": (self.tempos, NO_TEMPO),
            "t": (self.tunings, STANDARD_TUNING),
        }[token]
        return values is None or bool(values - {marker})


class TabSyntax:
    """The text as a state machine. Header states carry what the rest of the header needs;
    body states carry the grid, the number of strings and the position in the group (the
    named tuples above)."""

    start = Plain("start")

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    def is_done(self, state) -> bool:
        return state.kind == "done"

    def transition(self, state, ch: str) -> tuple[tuple, Action] | None:
        kind = state.kind
        if kind == "start":
            return (GridDigits("g", ""), Action()) if ch == "g" else None
        if kind == "g":
            return self._grid(state.written, ch)
        if kind == "gap":
            return self._token_letter(state.grid, state.last, ch)
        if kind == "m":
            return self._numerator(state.grid, state.value, ch)
        if kind == "m/":
            return self._denominator(state.grid, state.numerator, state.written, ch)
        if kind == "q":
            return self._tempo(state.grid, state.value, ch)
        if isinstance(state, TuningOf):
            return self._tuning_of(state, ch)
        if kind in ("t", "t.", "t#"):
            return self._tuning(state, ch)
        return self._body(state, ch)

    # -- header ---------------------------------------------------------------------------------

    def _token_end(self, grid: int, token: str, ch: str, action: Action | None = None):
        """A space before the next header token, or the newline that ends the header (where
        the tokens after this one may be left out)."""
        action = action or Action()
        later = TOKEN_ORDER[TOKEN_ORDER.index(token) + 1 :]
        if ch == " " and any(self._may_write(token, letter) for letter in later):
            return Gap("gap", grid, token), action
        if ch == "\n" and all(self.settings.may_skip(letter) for letter in later):
            return Body("bar", grid, len(STANDARD)), action
        return None

    def _may_write(self, last: str, letter: str) -> bool:
        """After token `last`, may `letter` come next (the tokens between left out)?"""
        between = TOKEN_ORDER[TOKEN_ORDER.index(last) + 1 : TOKEN_ORDER.index(letter)]
        return TOKEN_ORDER.index(letter) > TOKEN_ORDER.index(last) and (
            all(self.settings.may_skip(t) for t in between) and self.settings.may_spell(letter)
        )

    def _grid(self, digits: str, ch: str):
        texts = [str(g) for g in self.settings.grids]
        if ch in DIGITS and any(t.startswith(digits + ch) for t in texts):
            return GridDigits("g", digits + ch), Action()
        if digits in texts:
            grid = int(digits)
            return self._token_end(grid, "g", ch, Action(bar_max=grid))
        return None

    def _token_letter(self, grid: int, last: str, ch: str):
        if ch not in TOKEN_ORDER[1:] or not self._may_write(last, ch):
            return None
        if ch == "t" and self.settings.tunings is not None:
            return TuningOf("t", grid, ""), Action()
        if ch == "t":
            return Tuning("t", grid, 0), Action()
        return Number(ch, grid, 0), Action()

    def _numerator(self, grid: int, num: int, ch: str):
        meters = self.settings.meters
        if ch in DIGITS and (num or ch != "0") and num * 10 + int(ch) <= MAX_NUMERATOR:
            written = str(num * 10 + int(ch))
            if meters is None or any(m.startswith(written) for m in meters):
                return Number("m", grid, int(written)), Action()
        if ch == "/" and num and (meters is None or any(m.startswith(f"{num}/") for m in meters)):
            return Denominator("m/", grid, num, ""), Action()
        return None

    def _denominator(self, grid: int, num: int, digits: str, ch: str):
        fitting = [str(d) for d in DENOMINATORS if (num * grid) % d == 0]
        if self.settings.meters is not None:
            fitting = [d for d in fitting if f"{num}/{d}" in self.settings.meters]
        if ch in DIGITS and any(t.startswith(digits + ch) for t in fitting):
            return Denominator("m/", grid, num, digits + ch), Action()
        if digits in fitting:
            nominal = num * grid // int(digits)
            return self._token_end(grid, "m", ch, Action(bar_max=nominal))
        return None

    def _tempo(self, grid: int, value: int, ch: str):
        low, high = TEMPO_RANGE
        tempos = self.settings.tempos
        if ch in DIGITS and (value or ch != "0"):
            new = value * 10 + int(ch)
            if tempos is not None:
                return (
                    (Number("q", grid, new), Action())
                    if any(t.startswith(str(new)) for t in tempos)
                    else None
                )
            viable = _viable(new, low, high, TEMPO_DIGITS)
            return (Number("q", grid, new), Action()) if viable else None
        if low <= value <= high and (tempos is None or str(value) in tempos):
            return self._token_end(grid, "q", ch)
        return None

    def _tuning_of(self, state: TuningOf, ch: str):
        """Only the tunings of the training tabs."""
        grid, written = state.grid, state.written
        tunings = self.settings.tunings or frozenset()
        if ch == "\n" and written in tunings:
            return Body("bar", grid, len(parse_pitches(written) or STANDARD)), Action()
        if any(t.startswith(written + ch) for t in tunings):
            return TuningOf("t", grid, written + ch), Action()
        return None

    @staticmethod
    def _tuning(state: Tuning | TuningNote, ch: str):
        """Note names one after another (letter, optional sharp, octave); a newline ends them."""
        kind, grid, count = state.kind, state.grid, state.strings
        if kind == "t":
            if ch in NOTE_LETTERS and count < MAX_STRINGS:
                return TuningNote("t.", grid, count, ch in SHARPABLE), Action()
            if ch == "\n" and count >= MIN_STRINGS:
                return Body("bar", grid, count), Action()
            return None
        if ch == "#" and kind == "t." and state.sharpable:
            return Tuning("t#", grid, count), Action()
        if ch in TUNING_OCTAVES:
            return Tuning("t", grid, count + 1), Action()
        return None

    # -- body -----------------------------------------------------------------------------------

    def _body(self, state: Body | InGroup, ch: str):
        kind, grid, strings = state.kind, state.grid, state.strings
        if kind in ("bar", "next", "nl") and ch in CELL_BITS:  # a new group's first cell
            need = ROOM_SOUNDS if ch == SUSTAIN else ROOM
            return self._after_cell(grid, strings, 1), Action(need, CELL_BITS[ch])
        if kind == "cell" and ch in CELL_BITS:
            need = SOUNDS if ch == SUSTAIN else NONE
            return self._after_cell(grid, strings, state.written + 1), Action(need, CELL_BITS[ch])
        if kind == "full" and ch == MARKS_START:
            return InGroup("mark", grid, strings, 0), Action()
        if kind in ("full", "marked") and ch == GROUP_END:
            return Body("next", grid, strings), Action(group_end=True)
        if kind == "mark" and ch in MARK_CHARS:
            k = state.written + 1
            after = (
                InGroup("mark", grid, strings, k) if k < strings else Body("marked", grid, strings)
            )
            return after, Action(_mark_need(ch))
        if kind == "next" and ch == BAR_END:
            return Body("barend", grid, strings), Action(BAR_FULL, bar_end=True)
        if kind == "barend" and ch == "\n":
            return Body("nl", grid, strings), Action()
        if kind == "nl" and ch == "\n":
            return DONE, Action()
        return None

    @staticmethod
    def _after_cell(grid: int, strings: int, written: int) -> Body | InGroup:
        if written < strings:
            return InGroup("cell", grid, strings, written)
        return Body("full", grid, strings)


def _mark_need(mark: str) -> int:
    if mark == NO_MARK:
        return NONE
    if mark == PALM_MUTE:
        return STRUCK  # the one mark a dead note takes
    return LEGATO_OK if mark == LEGATO else FRETTED


IN_BAR = ("cell", "full", "mark", "marked", "next")  # states inside a bar that has begun


def string_of(state) -> int:
    """The string a state's characters concern (a group's first cell: string 0)."""
    return state.written if isinstance(state, InGroup) else 0
