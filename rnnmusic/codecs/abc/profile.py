"""What a tune uses: its rhythm, meter, unit length and key as spelled in its header, and how
many notes and bars it has — gathered over a corpus so strict sampling keeps to them."""

from __future__ import annotations

import re

from rnnmusic.profile import PieceFacts

RHYTHM, METER, UNIT, KEY = "R", "M", "L", "K"
NOTES, BARS = "notes", "bars"
NO_RHYTHM = ""  # a tune without an R: line
_FIELD = re.compile(r"^([RMLK]):(.*)$", re.MULTILINE)
# a note letter outside chord symbols ("Am7"), decorations (!trill!) and inline fields
_NOTE = re.compile(r'"[^"\n]*"|![^!\n]*!|\[[A-Za-z]:[^\]\n]*\]|(?P<note>[A-Ga-g])')
_BAR = re.compile(r"\|+|:\|")


def piece_facts(text: str) -> PieceFacts:
    fields = {name: value for name, value in _FIELD.findall(text)}
    body = _FIELD.sub("", text)
    notes = sum(1 for m in _NOTE.finditer(body) if m.group("note"))
    values = {
        RHYTHM: [fields.get(RHYTHM, NO_RHYTHM)],
        METER: [fields[METER]] if METER in fields else [],
        UNIT: [fields[UNIT]] if UNIT in fields else [],
        KEY: [fields[KEY]] if KEY in fields else [],
    }
    return PieceFacts(values=values, numbers={NOTES: notes, BARS: len(_BAR.findall(body))})


def count_notes(text: str) -> int:
    body = _FIELD.sub("", text)
    return sum(1 for m in _NOTE.finditer(body) if m.group("note"))
