"""A canonical tune read into the feature list it is played from, the way abc2midi reads it.

What abc2midi decides while reading, and this module decides the same way:
- pitches: the key signature, then accidentals, which hold to the end of the bar for the same
  letter in every octave (`_d2 fd c4` plays the second d as D flat; `_D d` flattens d too);
- lengths in quarter notes: the unit length `L:`, tuplets `(p:q:r` (q from the meter of the
  header when not written), broken rhythm (`>` 3:1, `>>` 7:1, `>>>` 15:1, only between notes
  of equal length; a chord always counts as equal), a fermata doubles its note or rest;
- chords last as long as their first note, or the length written after `]` for every note;
- decorations: `.` and `!breath!` play half the note, `~` plays the note with cuts (grace notes
  a step above, and below for a note of three units), `T`/`!trill!` mark a trill (played out
  later), other decorations change no note; a short decoration counts only when a note, chord
  or rest follows it directly;
- chord symbols become CHORD_SYMBOL features; a name abc2midi does not know plays as major.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from rnnmusic.codecs.abc.alphabet import Note, Token, parse_length
from rnnmusic.codecs.abc.fields import LETTERS, NATURAL_SEMITONES, Key, parse_key
from rnnmusic.codecs.abc.play import features as F
from rnnmusic.codecs.abc.play.chords import chord_name
from rnnmusic.codecs.abc.play.features import ZERO, Feature, Trill
from rnnmusic.codecs.abc.tune import Tune

MIDDLE_C = 60
SHARP_ORDER = "FCGDAEB"  # letters sharpened by a key signature, in order; flats go backwards
# !p! !f! …: the velocities of notes on the first beat, on other beats and between beats
DYNAMICS = {
    "ppp": (30, 20, 10),
    "pp": (45, 35, 20),
    "p": (60, 50, 35),
    "mp": (75, 65, 50),
    "mf": (90, 80, 65),
    "f": (105, 95, 80),
    "ff": (120, 110, 95),
    "fff": (127, 125, 110),
}
_TUPLET = re.compile(r"\((\d)(?::(\d?))?(?::(\d?))?")
_BAR = re.compile(r"(?P<bar>[|:\[\]]+?)(?P<ending>\d[\d,\-]*)?$")
_STACCATO, _FERMATA, _ORNAMENT, _TRILL, _BREATH = (
    "staccato",
    "fermata",
    "ornament",
    "trill",
    "breath",
)
_SHORT = {".": _STACCATO, "~": _ORNAMENT, "T": _TRILL, "H": _FERMATA}
_PASSED_ON = {"fermata": _FERMATA, "trill": _TRILL, "breath": _BREATH}


@dataclass
class Score:
    """The features of one tune plus what the player needs from its header."""

    features: list[Feature]
    meter: tuple[int, int]  # of the header: the accompaniment starts with it
    unit: int  # the header's L: denominator (trills are cut in its units)
    has_chords: bool  # a chord symbol with a name abc2midi knows: an accompaniment is played
    bar_checks: bool = True  # False for M:none


def meter_numbers(meter: str) -> tuple[tuple[int, int], bool]:
    """(numerator, denominator) as abc2midi counts a meter, and whether bars are checked."""
    if meter == "C":
        return (4, 4), True
    if meter == "C|":
        return (2, 2), True
    if meter == "none":
        return (4, 4), False
    top, bottom = meter.split("/")
    return (sum(int(t) for t in top.split("+")), int(bottom)), True


def key_alterations(key: Key) -> dict[str, int]:
    """Semitones the key signature adds to each letter (K:none plays naturals, K:Hp as D)."""
    fifths = 0 if key.special == "none" else 2 if key.special == "Hp" else key.fifths
    if fifths > 7:
        fifths -= 12
    elif fifths < -7:
        fifths += 12
    alter = dict.fromkeys(LETTERS, 0)
    for letter in SHARP_ORDER[:fifths] if fifths > 0 else SHARP_ORDER[::-1][:-fifths]:
        alter[letter] = 1 if fifths > 0 else -1
    for accidental, letter in key.extra:
        alter[letter.upper()] = accidental
    return alter


def natural_pitch(letter: str, octave: int) -> int:
    return MIDDLE_C + 12 * octave + NATURAL_SEMITONES[LETTERS.index(letter)]


@dataclass
class _Broken:
    """The notes a broken rhythm may join: indices of the last two notes' first and last
    features, and a pending `>` waiting for the next note."""

    last_start: int = -1
    last_end: int = -1
    this_start: int = -1
    this_end: int = -1
    kind: str = ">"
    count: int = 1
    pending: int = -1


@dataclass
class _Reader:
    tune: Tune
    features: list[Feature] = field(default_factory=list)
    has_chords: bool = False

    def __post_init__(self) -> None:
        (self.time_num, _), _ = meter_numbers(self.tune.meter)  # tuplets: the header's meter
        self.bar_meter, self.bar_checks = meter_numbers(self.tune.meter)
        self.unit = int(self.tune.length.split("/")[1])
        self.header_unit = self.unit
        self.key = key_alterations(self.tune.key)
        self.bar_alter = dict(self.key)  # accidentals met in this bar, by letter
        self.tuplet_left = 0
        self.tuplet_factor = Fraction(1)
        self.tuplet_ratio = (1, 1)  # (q, p) as written: hornpipe pairs look at unreduced lengths
        # R:hornpipe: abc2midi plays every broken rhythm 2:1 instead of 3:1, and in 2/4 or 4/4
        # swings each pair of equal notes of an eighth (a sixteenth in 2/4) 2:1 as well
        header = meter_numbers(self.tune.meter)[0]
        self.hornpipe_ratio = self.tune.rhythm == "hornpipe"
        self.hornpipe = self.hornpipe_ratio and header in ((4, 4), (2, 4))
        self.bar_units = Fraction(0)  # whole notes since the bar line (hornpipe pairs)
        self.rest_decorations: set[str] = set()  # what the last rest of the line took
        self.last_written = (0, 0)  # the previous note's length as written, hornpipe pairs
        self.in_chord = False
        self.chord_count = 0
        self.chord_start = 0
        self.chord_length = ZERO
        self.fermata_on_chord = False
        self.chord_decorations: set[str] = set()
        self.in_grace = False
        self.in_slur = False
        self.passed_on: set[str] = set()  # !fermata! !trill! !breath! wait for the next note
        self.broken = _Broken()
        self.broken_stack: _Broken | None = None

    # -- the token stream --------------------------------------------------------------------

    def read(self) -> Score:
        music_started = False
        for line in self.tune.lines:
            if len(line) == 1 and line[0].kind == "fieldline":
                self.field(line[0].text[0], line[0].text[2:])
                continue
            if not music_started:
                self.add(F.MUSIC_LINE)
                music_started = True
            self.line(line)
        return Score(
            self.features,
            meter_numbers(self.tune.meter)[0],
            self.header_unit,
            self.has_chords,
            self.bar_checks,
        )

    def line(self, tokens: list[Token]) -> None:
        decorations: set[str] | None = None  # a run of short decorations before a note
        self.rest_decorations: set[str] = set()
        for tok in tokens:
            kind = tok.kind
            if kind == "shortdeco":
                if decorations is None:  # abc2midi starts reading a note here
                    decorations = self.take_passed_on()
                decorations.add(_SHORT.get(tok.text, tok.text))
                continue
            if kind == "note":
                assert isinstance(tok, Note)
                self.note(tok, decorations)
            elif kind == "rest":
                self.rest(tok.text, decorations)
            elif kind == "chord_open":
                self.chord_on(decorations)
            elif kind == "chord_close":
                self.chord_off(tok.text[1:])
            elif kind == "mrest":
                self.multi_bar_rest(int(tok.text[1:] or 1))
            elif kind == "grace_open":
                self.grace_on()
            elif kind == "grace_close":
                self.grace_off()
            elif kind == "bar":
                self.bar(tok.text)
            elif kind == "ending":
                self.add(F.PLAY_ON_REP, endings=tok.text[1:])
            elif kind == "tuplet":
                self.tuplet(tok.text)
            elif kind == "broken":
                self.broken_rhythm(tok.text)
            elif kind == "tie":
                self.tie()
            elif kind == "slur_open":
                if not self.in_slur:
                    self.add(F.SLUR_ON)
                    self.in_slur = True
            elif kind == "slur_close":
                if self.in_slur:
                    self.add(F.SLUR_OFF)
                    self.in_slur = False
            elif kind == "deco":
                self.instruction(tok.text.strip("!"))
            elif kind == "symbol":
                self.chord_symbol(tok.text.strip('"'))
            elif kind == "field":
                self.field(tok.text[1], tok.text[3:-1])
            decorations = None  # "~ A", "~(A", "~{g}A": abc2midi drops the decoration

    def add(self, kind: str, **values) -> Feature:
        feature = Feature(kind, **values)
        self.features.append(feature)
        return feature

    # -- notes and rests ---------------------------------------------------------------------

    def scaled(self, length: Fraction, counts: bool = True) -> Fraction:
        """A written length through the current tuplet; `counts` when it uses up a place."""
        if self.tuplet_left > 0:
            length *= self.tuplet_factor
            if counts and not self.in_grace and not self.in_chord:
                self.tuplet_left -= 1
        return length

    def quarters(self, multiplier: Fraction) -> Fraction:
        return multiplier * 4 / self.unit

    def count_units(self, multiplier: Fraction) -> None:
        if not self.in_grace and (not self.in_chord or self.chord_count == 1):
            self.bar_units += multiplier / self.unit

    def hornpipe_pair(self, num: int, den: int) -> None:
        """In a hornpipe, a note of an eighth (4/4) or a sixteenth (2/4) off the beat, after a
        note as long, makes the two a broken rhythm."""
        if not self.hornpipe:
            return
        last_num, last_den = self.last_written
        if num * last_den == last_num * den and num == 1 and den * self.time_num == 32:
            off_beat = {4: 8, 2: 16}[self.time_num]
            if self.bar_units.denominator == off_beat:
                self.broken_rhythm(">")
        self.last_written = (num, den)

    def take_passed_on(self) -> set[str]:
        """`!fermata!`, `!trill!`, `!breath!` for the note abc2midi reads next (inside a chord
        they hold for every note of it)."""
        taken = set(self.passed_on)
        if not self.in_chord:
            self.passed_on = set()
        return taken

    def note(self, tok: Note, short: set[str] | None) -> None:
        decorations = self.take_passed_on() if short is None else short
        if self.in_chord:
            decorations |= self.chord_decorations
            self.chord_count += 1
        q, p = self.tuplet_ratio if self.tuplet_left > 0 else (1, 1)
        length = self.scaled(tok.length)
        if not self.in_grace and not self.in_chord:
            written = tok.length.numerator * q, tok.length.denominator * p * self.unit
            self.hornpipe_pair(*written)
        else:
            self.last_written = (3, self.last_written[1])
        self.count_units(length)
        pitch = self.pitch(tok)
        natural = natural_pitch(tok.letter, tok.octave)
        if _FERMATA in decorations:
            length *= 2
        if self.chord_count == 1:
            self.chord_length = self.quarters(length)
        full = self.quarters(length)
        if decorations & {_ORNAMENT, _TRILL}:
            if self.in_chord:  # "Rolls and trills not supported in chords": half the note
                self.add(F.NOTE, pitch=pitch, length=full / 2, natural=natural)
                return
            if _TRILL in decorations:
                upper = self.step_above(tok.letter, tok.octave)
                self.add(F.NOTE, pitch=pitch, length=full, natural=natural, trill=Trill(upper))
            else:
                self.ornament(tok, pitch, length)
            self.mark_note()
            return
        if decorations & {_STACCATO, _BREATH}:
            if self.in_chord:
                if self.chord_count == 1:
                    self.add(F.REST, pitch=pitch, length=full)
                self.add(F.NOTE, pitch=pitch, length=full / 2, natural=natural)
            else:
                self.add(F.NOTE, pitch=pitch, length=full / 2, natural=natural)
                self.mark_start()
                self.add(F.REST, pitch=pitch, length=full / 2)
                self.mark_end()
            return
        self.add(F.NOTE, pitch=pitch, length=full, natural=natural)
        if not self.in_chord:
            self.mark_note()
        if self.in_slur and not self.in_grace:
            self.add(F.SLUR_NOTE)

    def pitch(self, tok: Note) -> int:
        """The sounding pitch; a written accidental holds for the letter to the bar line."""
        if tok.accidental is None:
            alter = self.bar_alter[tok.letter]
        else:
            alter = tok.accidental
            self.bar_alter[tok.letter] = alter
        return natural_pitch(tok.letter, tok.octave) + alter

    def step_above(self, letter: str, octave: int) -> int:
        """The next letter up in the key signature (trills and cuts ignore the bar's accidentals)."""
        index = LETTERS.index(letter) + 1
        up, octave = (LETTERS[index], octave) if index < 7 else ("C", octave + 1)
        return natural_pitch(up, octave) + self.key_sign(up)

    def step_below(self, letter: str, octave: int) -> int:
        index = LETTERS.index(letter) - 1
        down, octave = (LETTERS[index], octave) if index >= 0 else ("B", octave - 1)
        return natural_pitch(down, octave) + self.key_sign(down)

    def key_sign(self, letter: str) -> int:
        """The key signature's sign for a letter (abc2midi's cuts take one semitone, not two)."""
        alter = self.key[letter]
        return (alter > 0) - (alter < 0)

    def ornament(self, tok: Note, pitch: int, length: Fraction) -> None:
        """`~`: a note of three units plays as a unit, then two cut units (a grace note above,
        then below); any other note as one cut from above."""
        up = self.step_above(tok.letter, tok.octave)
        down = self.step_below(tok.letter, tok.octave)
        self.mark_start()
        if length == 3:
            one = Fraction(1)
            self.add(F.NOTE, pitch=pitch, length=self.quarters(one))
            self.cut(pitch, up, one)
            self.cut(pitch, down, one)
        else:
            self.cut(pitch, up, length)
        self.mark_end()

    def cut(self, pitch: int, grace: int, length: Fraction) -> None:
        self.add(F.GRACE_ON)
        self.add(F.NOTE, pitch=grace, length=self.quarters(Fraction(1)))
        self.add(F.GRACE_OFF)
        self.add(F.NOTE, pitch=pitch, length=self.quarters(length))

    def rest(self, text: str, short: set[str] | None) -> None:
        decorations = self.take_passed_on() if short is None else short
        if short is None:  # abc2midi keeps these for chords later in the line (not fermata)
            self.rest_decorations = decorations - {_FERMATA}
        length = parse_length(text[1:]) or Fraction(1)
        if _FERMATA in decorations:
            length *= 2
        if self.in_chord:
            self.chord_count += 1
        length = self.scaled(length)
        if self.chord_count == 1:
            self.chord_length = self.quarters(length)
        self.count_units(length)
        self.last_written = (3, self.last_written[1])  # no hornpipe pair across a rest
        self.add(F.REST, length=self.quarters(length))
        if not self.in_chord:
            self.mark_note()

    def multi_bar_rest(self, bars: int) -> None:
        num, den = self.bar_meter
        for n in range(bars):
            length = self.scaled(Fraction(num * self.unit, den))
            self.count_units(length)
            self.last_written = (3, self.last_written[1])
            self.add(F.REST, length=self.quarters(length))
            self.mark_note()
            if n != bars - 1:
                self.bar("|")

    # -- chords and grace notes ----------------------------------------------------------------

    def chord_on(self, short: set[str] | None) -> None:
        if self.in_chord:
            return
        if short is None:
            self.chord_decorations = self.rest_decorations | self.passed_on
        else:
            self.chord_decorations = short
        self.fermata_on_chord = _FERMATA in self.chord_decorations
        self.chord_start = len(self.features)
        self.add(F.CHORD_ON)
        self.in_chord = True
        self.chord_count = 0
        self.chord_length = ZERO
        self.mark_start()

    def chord_off(self, written: str) -> None:
        if not self.in_chord:
            return
        multiplier = parse_length(written) if written else None
        if multiplier is None or multiplier == 1:
            length = self.chord_length
            if self.tuplet_left > 0:
                self.tuplet_left -= 1
            self.add(F.CHORD_OFF, length=length)
        else:
            if self.tuplet_left > 0:
                multiplier *= self.tuplet_factor
                self.tuplet_left -= 1
            length = self.quarters(multiplier)
            if self.fermata_on_chord:
                length *= 2
            self.add(F.CHORD_OFF_LENGTH, length=length)
            for feature in self.features[self.chord_start : -1]:
                if feature.kind in (F.NOTE, F.TNOTE, F.REST):
                    feature.length = length
        self.fermata_on_chord = False
        self.in_chord = False
        self.chord_count = 0
        self.chord_decorations = set()
        self.passed_on = set()
        self.mark_end()

    def grace_on(self) -> None:
        if self.in_grace or self.in_chord:
            return
        self.add(F.GRACE_ON)
        self.in_grace = True
        self.broken_stack = self.broken
        self.broken = _Broken()

    def grace_off(self) -> None:
        if not self.in_grace:
            return
        self.add(F.GRACE_OFF)
        self.in_grace = False
        if self.broken_stack is not None:
            self.broken = self.broken_stack
            self.broken_stack = None

    def tie(self) -> None:
        if self.features and self.features[-1].kind in (F.CHORD_OFF, F.CHORD_OFF_LENGTH):
            self.tie_chord()
        else:
            self.add(F.TIE)

    def tie_chord(self) -> None:
        """`[CE]-`: each note of the chord gets its own tie."""
        end = len(self.features) - 1
        for i in range(end, self.chord_start - 1, -1):
            if self.features[i].kind == F.NOTE and self.features[i + 1].kind != F.TIE:
                self.features.insert(i + 1, Feature(F.TIE))

    # -- rhythm ----------------------------------------------------------------------------------

    def tuplet(self, text: str) -> None:
        if self.tuplet_left > 0:
            return  # abc2midi: "nested tuples"
        match = _TUPLET.match(text)
        if match is None:
            return
        p = int(match.group(1))
        q = int(match.group(2) or 0)
        r = int(match.group(3) or 0)
        self.tuplet_left = r if r else p
        if not q:
            if p in (2, 4, 8):
                q = 3
            elif p in (3, 6):
                q = 2
            else:
                q = 3 if self.time_num % 3 == 0 else 2
        self.tuplet_ratio = (q, p)
        self.tuplet_factor = Fraction(q, p)

    def broken_rhythm(self, text: str) -> None:
        if self.in_chord or self.in_grace:
            return
        self.broken.kind = text[0]
        self.broken.count = len(text)
        self.broken.pending = 0

    def mark_start(self) -> None:
        b = self.broken
        b.last_start, b.last_end = b.this_start, b.this_end
        b.this_start = len(self.features) - 1

    def mark_end(self) -> None:
        b = self.broken
        b.this_end = len(self.features) - 1
        if b.pending != -1:
            b.pending += 1
            if b.pending == 1:
                self.apply_broken()
                b.pending = -1

    def mark_note(self) -> None:
        self.mark_start()
        self.mark_end()

    def apply_broken(self) -> None:
        """`A>B`: 3/2 and 1/2 of their length (`>>` 7/4 and 1/4, `>>>` 15/8 and 1/8), only
        when the two are equally long."""
        b = self.broken
        single = (4, 2, 3) if self.hornpipe_ratio else (6, 2, 4)
        first, second, half = {1: single, 2: (7, 1, 4), 3: (15, 1, 8)}[b.count]
        if b.kind == "<":
            first, second = second, first
        if min(b.last_start, b.last_end, b.this_start, b.this_end) < 0:
            return
        a, c = self.features[b.last_start].length, self.features[b.this_start].length
        if a is not None and c is not None and a != c:
            return  # "Cannot apply broken rhythm. Notes not equal durations"
        for start, end, factor in (
            (b.last_start, b.last_end, first),
            (b.this_start, b.this_end, second),
        ):
            for feature in self.features[start : end + 1]:
                if feature.kind in (F.NOTE, F.REST, F.CHORD_OFF, F.CHORD_OFF_LENGTH):
                    assert feature.length is not None
                    feature.length = feature.length * factor / half

    # -- bar lines, fields, decorations, chord symbols -------------------------------------------

    def bar(self, text: str) -> None:
        match = _BAR.match(text)
        core, ending = (match.group("bar"), match.group("ending")) if match else (text, None)
        if core == ":||:":
            kinds = [F.REP_BAR, F.BAR_REP]
        else:
            kinds = [
                {"|": F.SINGLE_BAR, "|:": F.BAR_REP, ":|": F.REP_BAR, "::": F.DOUBLE_REP}.get(
                    core, F.DOUBLE_BAR
                )
            ]
        for kind in kinds:
            self.add(kind)
            self.bar_alter = dict(self.key)
            self.bar_units = Fraction(0)
        if ending and core in ("|", ":|"):  # abc2midi reads no ending after "||", "|]", "|:"
            self.add(F.PLAY_ON_REP, endings=ending)

    def field(self, name: str, value: str) -> None:
        if name == "K":
            key = parse_key(value)
            if key is not None:
                self.key = key_alterations(key)
                self.bar_alter = dict(self.key)
        elif name == "M":
            (num, den), checks = meter_numbers(value.strip())
            self.bar_meter = (num, den)
            self.add(F.METER, meter=(num, den), pitch=int(checks))
        elif name == "L":
            self.unit = int(value.strip().split("/")[1])

    def instruction(self, name: str) -> None:
        if name in _PASSED_ON:
            self.passed_on.add(_PASSED_ON[name])
        elif name in DYNAMICS:
            self.add(F.DYNAMIC, velocities=DYNAMICS[name])
        elif name == "arpeggio":
            self.add(F.ARPEGGIO)

    def chord_symbol(self, text: str) -> None:
        name = chord_name(text)
        if name is None:
            return
        self.has_chords = self.has_chords or name.known
        self.add(F.CHORD_SYMBOL, chord=name)


def read_score(tune: Tune) -> Score:
    """The tune's features as abc2midi stores them, before grace notes, ties and repeats are
    worked out (passes.py)."""
    return _Reader(tune).read()
