"""Chord symbols ("Am7", "D/F#", "Bbmaj7") as the notes of an accompaniment: the chord names
abc2midi knows, how it reads a symbol, and the bass note and chord it plays for one."""

from __future__ import annotations

from rnnmusic.codecs.abc.play.features import ChordName

# abc2midi's chord names and their intervals above the root (its "sus4" is a major triad and
# its "sus" the suspended fourth: kept as it plays them)
CHORD_INTERVALS: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "maj7": (0, 4, 7, 11),
    "M7": (0, 4, 7, 11),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "aug": (0, 4, 8),
    "+": (0, 4, 8),
    "aug7": (0, 4, 8, 10),
    "dim": (0, 3, 6),
    "dim7": (0, 3, 6, 9),
    "9": (0, 4, 7, 10, 14),
    "m9": (0, 3, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "M9": (0, 4, 7, 11, 14),
    "11": (0, 4, 7, 10, 14, 17),
    "dim9": (0, 3, 6, 9, 13),
    "sus": (0, 5, 7),
    "sus4": (0, 4, 7),
    "sus9": (0, 2, 7),
    "sus2": (0, 2, 7),
    "7sus2": (0, 2, 7, 10),
    "7sus4": (0, 5, 7, 10),
    "7sus9": (0, 2, 7, 10),
    "5": (0, 7),
}
SEMITONES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
BASS_BASE, CHORD_BASE = 36, 48  # the octaves abc2midi plays the bass note and the chord in
_NAME_STOPS = " (/)"


def chord_name(symbol: str) -> ChordName | None:
    """How abc2midi reads a chord symbol; None when it is no chord (no root A-G). An unknown
    name ("Gadd9") plays as a major chord, marked `known=False`."""
    text = symbol[1:] if symbol.startswith("(") else symbol
    if not text or text[0] not in "ABCDEFG":
        return None
    root, pos, double = _pitch(text, 1, text[0].lower(), 1)
    name = ""
    while pos < len(text) and len(name) < 9 and text[pos] not in _NAME_STOPS:
        name += text[pos]
        pos += 1
    bass = -1
    if pos < len(text) and text[pos] == "/" and pos + 1 < len(text):
        letter = text[pos + 1]
        if letter.lower() in SEMITONES:
            bass, _, _ = _pitch(text, pos + 2, letter.lower(), double)
    intervals = CHORD_INTERVALS.get(name)
    return ChordName(root, bass, intervals or CHORD_INTERVALS[""], intervals is not None)


def _pitch(text: str, pos: int, letter: str, double: int) -> tuple[int, int, int]:
    """Semitones above C of a root or bass with its accidentals, the position after them, and
    the multiplier abc2midi carries on to the bass (a second accidental doubles the first)."""
    first, pos = _accidental(text, pos)
    second, pos = _accidental(text, pos)
    if second:
        double = 2
    return SEMITONES[letter] + first * double, pos, double


def _accidental(text: str, pos: int) -> tuple[int, int]:
    sign = 0
    if pos < len(text) and text[pos] == "#":
        sign, pos = 1, pos + 1
    if pos < len(text) and text[pos] == "b":
        sign, pos = -1, pos + 1
    return sign, pos


def voicing(chord: ChordName) -> tuple[int, list[int]]:
    """The bass note and the chord's notes: the chord from C3 up in root position, or, over a
    written bass that is in the chord, with the notes below the bass moved up an octave."""
    bass = BASS_BASE + (chord.root if chord.bass == -1 else chord.bass)
    lowest = 0
    if chord.bass != -1:
        for j, interval in enumerate(chord.intervals):
            if _c_remainder(chord.root + interval, 12) == _c_remainder(chord.bass, 12):
                lowest = j
    notes = [
        CHORD_BASE + chord.root + interval + (12 if j < lowest else 0)
        for j, interval in enumerate(chord.intervals)
    ]
    return bass, notes


def _c_remainder(a: int, b: int) -> int:
    """C's `%`, which keeps the sign of `a` (a root of C flat is -1 semitones above C)."""
    return a - b * int(a / b)
