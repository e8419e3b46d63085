"""What a tune uses: its rhythm, meter, unit length and key as spelled in its header, and how
many notes and bars it has — gathered over a corpus so strict sampling keeps to them."""

from __future__ import annotations

import re

from rnnmusic.profile import PieceFacts

RHYTHM, METER, UNIT, KEY = "R", "M", "L", "K"
NOTES, BARS = "notes", "bars"
# diatonic steps from the lowest to the highest note as written (letter and octave marks; the
# key and accidentals aside): C to c is 7
STEP_RANGE = "step_range"
NO_RHYTHM = ""  # a tune without an R: line
_FIELD = re.compile(r"^([RMLK]):(.*)$", re.MULTILINE)
# a note letter outside chord symbols ("Am7"), decorations (!trill!) and inline fields
_NOTE = re.compile(r'"[^"\n]*"|![^!\n]*!|\[[A-Za-z]:[^\]\n]*\]|(?P<note>[A-Ga-g])(?P<marks>[,\']*)')
LETTERS = "CDEFGAB"
_BAR = re.compile(r"\|+|:\|")
# every field line (X:, T:, … of a written file too: a title's letters are not notes)
_FIELD_LINE = re.compile(r"^[A-Za-z]:.*$", re.MULTILINE)


def piece_facts(text: str) -> PieceFacts:
    fields = {name: value for name, value in _FIELD.findall(text)}
    body = _FIELD_LINE.sub("", text)
    steps = [step(m["note"], m["marks"]) for m in _NOTE.finditer(body) if m["note"]]
    values = {
        RHYTHM: [fields.get(RHYTHM, NO_RHYTHM)],
        METER: [fields[METER]] if METER in fields else [],
        UNIT: [fields[UNIT]] if UNIT in fields else [],
        KEY: [fields[KEY]] if KEY in fields else [],
    }
    numbers = {NOTES: len(steps), BARS: len(_BAR.findall(body))}
    numbers[STEP_RANGE] = max(steps) - min(steps) if steps else 0
    return PieceFacts(values=values, numbers=numbers)


def step(letter: str, marks: str = "") -> int:
    """The diatonic step of a written note: C (middle C) is 28, c 35, C, 21, c' 42."""
    octave = (4 if letter.isupper() else 5) + marks.count("'") - marks.count(",")
    return 7 * octave + LETTERS.index(letter.upper())


def count_notes(text: str) -> int:
    body = _FIELD_LINE.sub("", text)
    return sum(1 for m in _NOTE.finditer(body) if m.group("note"))
