"""What a tab piece uses: grid, time signature, tempo and tuning as spelled in its header, and
how many notes, strings and bars it has — gathered over a corpus so strict sampling keeps to
them (a tuning no training tab has is not one a guitarist can play from the sample)."""

from __future__ import annotations

from rnnmusic.codecs.tab.grammar import BAR_END, GROUP_END, MARKS_START
from rnnmusic.codecs.tab.model import FRET_CHARS, STANDARD, parse_pitches
from rnnmusic.profile import PieceFacts

GRID, METER, TEMPO, TUNING = "grid", "meter", "tempo", "tuning"
NOTES, BARS, STRINGS = "notes", "bars", "strings"
STANDARD_TUNING = "standard"  # no t token
NO_METER = "none"  # no m token: the decoder takes a whole note per bar
NO_TEMPO = "none"  # no q token
FRETS = frozenset(FRET_CHARS)


def piece_facts(text: str) -> PieceFacts:
    header, _, body = text.partition("\n")
    tokens = {token[:1]: token[1:] for token in header.split(" ") if token}
    tuning = tokens.get("t")
    strings = len(parse_pitches(tuning) or STANDARD) if tuning else len(STANDARD)
    notes = 0
    bars = body.count(BAR_END)
    for group in body.replace("\n", "").replace(BAR_END, "").split(GROUP_END):
        cells = group.split(MARKS_START, 1)[0]
        notes += sum(ch in FRETS for ch in cells)
    values = {
        GRID: [tokens.get("g", "")],
        METER: [tokens.get("m", NO_METER)],
        TUNING: [tuning or STANDARD_TUNING],
    }
    values[TEMPO] = [tokens.get("q", NO_TEMPO)]
    return PieceFacts(values=values, numbers={NOTES: notes, BARS: bars, STRINGS: strings})
