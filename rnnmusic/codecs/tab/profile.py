"""What a tab piece uses: grid, time signature, tempo and tuning as spelled in its header, and
how many notes, strings and bars it has — gathered over a corpus so strict sampling keeps to
them (a tuning no training tab has is not one a guitarist can play from the sample)."""

from __future__ import annotations

from rnnmusic.codecs.tab.alphabet import BAR_END, DEAD, FRET_CHARS, GROUP_END, MARKS_START
from rnnmusic.codecs.tab.model import STANDARD, parse_pitches
from rnnmusic.profile import PieceFacts

GRID, METER, TEMPO, TUNING = "grid", "meter", "tempo", "tuning"
NOTES, BARS, STRINGS = "notes", "bars", "strings"
PITCH_RANGE = "pitch_range"  # semitones from the lowest to the highest fretted note
CHORD = "chord"  # the most strings struck at once
STANDARD_TUNING = "standard"  # no t token
NO_METER = "none"  # no m token: the decoder takes a whole note per bar
NO_TEMPO = "none"  # no q token
FRETS = frozenset(FRET_CHARS)


def piece_facts(text: str) -> PieceFacts:
    header, _, body = text.partition("\n")
    tokens = {token[:1]: token[1:] for token in header.split(" ") if token}
    tuning = tokens.get("t")
    open_pitches = (parse_pitches(tuning) or STANDARD) if tuning else STANDARD
    strings = len(open_pitches)
    notes = chord = 0
    low, high = 128, -1
    bars = body.count(BAR_END)
    for group in body.replace("\n", "").replace(BAR_END, "").split(GROUP_END):
        cells = group.split(MARKS_START, 1)[0]
        chord = max(chord, sum(ch in FRETS or ch == DEAD for ch in cells))
        for string, ch in enumerate(cells[: len(open_pitches)]):
            if ch in FRETS:
                notes += 1
                pitch = open_pitches[string] + FRET_CHARS.index(ch)
                low, high = min(low, pitch), max(high, pitch)
    values = {
        GRID: [tokens.get("g", "")],
        METER: [tokens.get("m", NO_METER)],
        TUNING: [tuning or STANDARD_TUNING],
    }
    values[TEMPO] = [tokens.get("q", NO_TEMPO)]
    return PieceFacts(
        values=values,
        numbers={
            NOTES: notes,
            BARS: bars,
            STRINGS: strings,
            PITCH_RANGE: max(0, high - low),
            CHORD: chord,
        },
    )
