"""The header fields the abc codec keeps (R:, M:, L:, K:): parsing what people write and the one
canonical spelling the model sees.

Each `parse_*` returns the canonical value or None when the value cannot be understood; callers
decide whether that is a silent normalisation (reading files) or a reported repair (decoding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_METER = "4/4"
DEFAULT_LENGTH = "1/8"
DEFAULT_KEY = "C"

# -- R: rhythm (dance type) -----------------------------------------------------------------------

# Only dance forms are kept: they are a handle for priming ("R:jig") and few enough to learn.
# Free-text genre notes (the Essen songs' "Liebes - Lied, Leid, Klage") are dropped.
RHYTHMS: dict[str, str] = {
    "reel": "reel",
    "jig": "jig",
    "doublejig": "jig",
    "singlejig": "jig",
    "slipjig": "slip jig",
    "hopjig": "slip jig",
    "hornpipe": "hornpipe",
    "strathspey": "strathspey",
    "polka": "polka",
    "waltz": "waltz",
    "march": "march",
    "clog": "clog",
    "air": "air",
    "slowair": "air",
    "fling": "fling",
    "highlandfling": "fling",
    "slide": "slide",
    "barndance": "barndance",
    "mazurka": "mazurka",
    "schottische": "schottische",
    "setdance": "set dance",
    "gavotte": "gavotte",
    "minuet": "minuet",
    "walkaround": "walkaround",
    "quickstep": "quickstep",
}
CANONICAL_RHYTHMS = frozenset(RHYTHMS.values())


def parse_rhythm(value: str) -> str | None:
    """A dance type in canonical spelling, or None for anything else (dropped)."""
    key = re.sub(r"[^a-z]", "", strip_comment(value).lower())
    return RHYTHMS.get(key)


# -- M: meter -----------------------------------------------------------------------------------

_METER = re.compile(r"(?:\d{1,2}\+)*\d{1,2}/\d{1,2}")


def parse_meter(value: str) -> str | None:
    """`6/8`, `2+3/8`, `C` (common time), `C|` (cut time) or `none` (free meter)."""
    value = strip_comment(value).replace(" ", "")
    if value in ("C", "C|"):
        return value
    if value.lower() in ("none", ""):
        return "none" if value else None
    if _METER.fullmatch(value) and meter_fraction(value) > 0:
        return value
    return None


def salvage_meter(value: str) -> str:
    """Reading files: a meter buried in noise (Essen's `FREI4/4`) or free meter."""
    found = _METER.search(strip_comment(value).replace(" ", ""))
    if found and meter_fraction(found.group()) > 0:
        return found.group()
    return "none"


def meter_fraction(meter: str) -> Fraction:
    """Bar length in whole notes (0 for free meter)."""
    if meter == "C":
        return Fraction(1)
    if meter == "C|":
        return Fraction(1)
    if meter == "none":
        return Fraction(0)
    top, bottom = meter.split("/")
    if int(bottom) == 0:
        return Fraction(0)
    return Fraction(sum(int(t) for t in top.split("+")), int(bottom))


def declared_signature(tune: str) -> tuple[int, int] | None:
    """The time signature of the tune's first M: field (`C` is 4/4, `C|` 2/2, `2+3/8` 5/8), or
    None for free meter or none given. Every format a tune is converted to starts in this meter,
    whatever music21 makes of bars that do not fill it."""
    for line in tune.splitlines():
        if line.startswith("M:"):
            meter = parse_meter(line[2:])
            if meter in (None, "none"):
                return None
            if meter in ("C", "C|"):
                return (4, 4) if meter == "C" else (2, 2)
            top, bottom = meter.split("/")
            return sum(int(t) for t in top.split("+")), int(bottom)
    return None


def default_length(meter: str) -> str:
    """The ABC standard's rule when L: is absent: 1/16 below 3/4, else 1/8."""
    fraction = meter_fraction(meter)
    return "1/16" if 0 < fraction < Fraction(3, 4) else DEFAULT_LENGTH


# -- L: unit note length --------------------------------------------------------------------------

_LENGTH = re.compile(r"1/(\d{1,3})")
LENGTH_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)


def parse_length(value: str) -> str | None:
    """`1/N` with N a power of two up to 64."""
    match = _LENGTH.fullmatch(strip_comment(value).replace(" ", ""))
    if match and int(match.group(1)) in LENGTH_DENOMINATORS:
        return f"1/{int(match.group(1))}"
    return None


# -- K: key -------------------------------------------------------------------------------------

LETTERS = "CDEFGAB"
NATURAL_SEMITONES = (0, 2, 4, 5, 7, 9, 11)
FIFTHS = {"C": 0, "D": 2, "E": 4, "F": -1, "G": 1, "A": 3, "B": 5}  # sharps in the major key

# canonical mode suffix -> fifths offset from the major key on the same tonic
MODES: dict[str, int] = {"": 0, "m": -3, "dor": -2, "phr": -4, "lyd": 1, "mix": -1, "loc": -5}
_MODE_WORDS = {
    "maj": "",
    "ion": "",
    "m": "m",
    "min": "m",
    "aeo": "m",
    "dor": "dor",
    "phr": "phr",
    "lyd": "lyd",
    "mix": "mix",
    "loc": "loc",
}
_CLEF_WORDS = re.compile(
    r"^(?:clef=\S*|treble|bass|alto|tenor|baritone|perc|middle=\S*|octave=\S*|transpose=\S*|"
    r"stafflines=\S*|[+-]8(?:va|vb)?|exp)$",
    re.IGNORECASE,
)
_KEY = re.compile(r"(?P<tonic>[A-G][#b]?)(?P<rest>.*)")
_KEY_ACCIDENTAL = re.compile(r"(\^\^|\^|__|_|=)([a-gA-G])")
ACCIDENTAL_TEXT = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
ACCIDENTAL_VALUE = {v: k for k, v in ACCIDENTAL_TEXT.items()}


@dataclass(frozen=True)
class Key:
    """A key signature: tonic letter + alteration + mode, plus explicit extra accidentals.

    `special` is set for keys without a tonic ("none", highland pipes "Hp"); those are kept
    as they are and never transposed."""

    letter: str = "C"
    alter: int = 0
    mode: str = ""
    extra: tuple[tuple[int, str], ...] = ()  # (alteration, lower-case letter)
    special: str | None = None

    @property
    def text(self) -> str:
        if self.special:
            return self.special
        tonic = self.letter + {-1: "b", 0: "", 1: "#"}[self.alter]
        extra = "".join(f" {ACCIDENTAL_TEXT[a]}{letter}" for a, letter in self.extra)
        return tonic + self.mode + extra

    @property
    def fifths(self) -> int:
        """Sharps (positive) or flats (negative) in the key signature, ignoring extras."""
        return FIFTHS[self.letter] + 7 * self.alter + MODES[self.mode]

    @property
    def pitch_class(self) -> int:
        return (NATURAL_SEMITONES[LETTERS.index(self.letter)] + self.alter) % 12


def parse_key(value: str, lenient: bool = False) -> Key | None:
    """`G`, `Ador`, `E Minor`, `Bb mix`, `D =c`, `none`, `Hp`; clefs and octave marks are
    dropped. `lenient` (reading files) also accepts German `H` (= B) and ignores unknown words."""
    value = strip_comment(value).strip()
    if value.lower() == "none":
        return Key(special="none")
    if value in ("Hp", "HP"):
        return Key(special="Hp")
    if lenient and value[:1] == "H":
        value = "B" + value[1:]
    match = _KEY.fullmatch(value)
    if not match:
        return None
    tonic = match.group("tonic")
    words = match.group("rest").split()
    mode = ""
    if words and not _KEY_ACCIDENTAL.fullmatch(words[0]) and not _CLEF_WORDS.match(words[0]):
        word = words.pop(0).lower()
        if word[:3] in _MODE_WORDS:  # modes are case-insensitive; three letters suffice
            mode = _MODE_WORDS[word[:3]]
        elif not lenient:
            return None
    extra: list[tuple[int, str]] = []
    for word in words:
        accidental = _KEY_ACCIDENTAL.fullmatch(word)
        if accidental:
            extra.append((ACCIDENTAL_VALUE[accidental.group(1)], accidental.group(2).lower()))
        elif not _CLEF_WORDS.match(word) and not lenient:
            return None
    alter = {"#": 1, "b": -1}.get(tonic[1:], 0)
    key = Key(letter=tonic[0], alter=alter, mode=mode, extra=tuple(extra))
    if not lenient and abs(key.fifths) > 7:
        return None
    return key


def strip_comment(value: str) -> str:
    return value.split("%", 1)[0].strip()
