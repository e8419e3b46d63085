"""ABC that music21 would take minutes on, found before music21 sees the tune.

music21 re-bars a bar longer than its meter by trying time signatures as long as the bar, in time
that grows with the square of the bar's length: a bar of 150 whole notes takes 6 s, a meter of
1173/4 takes 5 s, and a damaged download holds worse. Music holds nothing near: among the 12,949
folk tunes in music21's corpus the longest bar is 34 whole notes (an unbarred air) and the
largest meter 12/8. The screen reads just enough ABC to add up note lengths between bar lines."""

from __future__ import annotations

import re
from fractions import Fraction

MAX_BAR_WHOLES = 64  # whole notes in one bar (music21: about a second)
MAX_METER_BEATS = 32  # numerator of a meter

_IGNORED = re.compile(r'"[^"\n]*"|![^!\n]*!|\+[^+\n]*\+|%.*|\{[^}\n]*\}')  # text, ornaments
_FIELD_LINE = re.compile(r"([A-Za-z]):(.*)")
_TOKEN = re.compile(
    r"\[(?P<field>[A-Za-z]):(?P<value>[^\]\n]*)\]"  # inline field
    r"|(?P<bar>\|)"
    r"|(?:\[[^\]\[|]*\]|[\^_=]*[A-Ga-gzx][,']*)(?P<num>\d{0,9})(?P<slashes>/*)(?P<den>\d{0,9})"
)
_FRACTION = re.compile(r"\s*(\d{1,9}(?:\s*\+\s*\d{1,9})*)\s*/\s*(\d{1,9})")


def too_hard_for_music21(tune: str) -> str | None:
    """Why music21 should not be given this tune (a short noun phrase), or None."""
    unit = Fraction(1, 8)  # the L: of a tune that gives none
    bar = Fraction(0)
    for line in tune.split("\n"):
        field = _FIELD_LINE.match(line)
        if field:
            unit, why = _field(field.group(1), field.group(2), unit)
            if why:
                return why
            continue
        for token in _TOKEN.finditer(_IGNORED.sub(" ", line)):
            if token.group("field"):
                unit, why = _field(token.group("field"), token.group("value"), unit)
                if why:
                    return why
            elif token.group("bar"):
                bar = Fraction(0)
            else:
                bar += unit * _multiplier(token)
                if bar > MAX_BAR_WHOLES:
                    return f"a bar over {MAX_BAR_WHOLES} whole notes long, too long for music21"
    return None


def _field(name: str, value: str, unit: Fraction) -> tuple[Fraction, str | None]:
    """The unit note length after a field, and why the field is too hard, if it is."""
    fraction = _FRACTION.match(value)
    if fraction is None:
        return unit, None
    top = sum(int(part) for part in fraction.group(1).split("+"))
    bottom = int(fraction.group(2))
    if name == "M" and top > MAX_METER_BEATS:
        return unit, f"a meter of {top}/{bottom}, too long for music21"
    if name == "L" and top and bottom:
        return Fraction(top, bottom), None
    return unit, None


def _multiplier(token: re.Match) -> Fraction:
    """A note's length in units: `C3` is 3, `C/` 1/2, `C//` 1/4, `C3/4` 3/4."""
    number = int(token.group("num") or 1)
    slashes = token.group("slashes")
    if not slashes:
        return Fraction(number)
    below = int(token.group("den")) if token.group("den") else 2 ** min(len(slashes), 30)
    return Fraction(number, max(1, below))
