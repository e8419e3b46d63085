"""Text → Score, for any string at all: what does not fit the grammar is skipped or fixed, and
every fix is one line in the repairs (the sampler emits arbitrary text, and evaluation counts
how much had to be repaired).

The reader goes left to right; the first character of an event says which event it is (see
`alphabet`). Spaces and bar lines are layout and never change the timing.
"""

from __future__ import annotations

from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.score import (
    DEFAULT_VELOCITY,
    MELODIC_CHANNELS,
    Note,
    Score,
    VelocityBins,
    max_ticks,
    resolve_overlaps,
)


class _Decoder:
    def __init__(self, text: str, ticks_per_beat: int, velocity_bins: VelocityBins | None):
        self.text = text
        self.bins = velocity_bins
        self.limit = max_ticks(ticks_per_beat)
        self.score = Score(ticks_per_beat=ticks_per_beat, tempos=[], meters=[])
        self.repairs: list[str] = []
        self.tick = 0
        self.ignored_waits = 0
        self.instrument = alphabet.DEFAULT_PROGRAM
        self.velocity = DEFAULT_VELOCITY
        self.sounding: dict[tuple[int, int], tuple[int, int]] = {}  # → (start, velocity)
        self.melodic: set[int] = set()
        self.refused: set[int] = set()  # instruments beyond MIDI's melodic channels

    def repair(self, index: int, what: str) -> None:
        self.repairs.append(f"char {index + 1}: {what}")

    def run(self) -> Score:
        text, i = self.text, 0
        readers = {
            alphabet.NOTE_ON: self.read_note,
            alphabet.NOTE_OFF: self.read_note,
            alphabet.INSTRUMENT: self.read_instrument,
            alphabet.VELOCITY: self.read_velocity,
            alphabet.TEMPO: self.read_tempo,
            alphabet.METER: self.read_meter,
        }
        while i < len(text):
            char = text[i]
            if char == alphabet.WAIT:
                self.wait()
                i += 1
            elif char in alphabet.LAYOUT:
                i += 1
            elif char in readers:
                i = readers[char](i)
            else:
                self.repair(i, f"unknown character {char!r} skipped")
                i += 1
        self.finish()
        return self.score

    # -- events ------------------------------------------------------------------------------

    def wait(self) -> None:
        if self.tick < self.limit:
            self.tick += 1
        else:
            self.ignored_waits += 1

    def read_note(self, i: int) -> int:
        pitch = alphabet.parse_pitch(self.text[i + 1 : i + 2], self.text[i + 2 : i + 3])
        kind = "note-on" if self.text[i] == alphabet.NOTE_ON else "note-off"
        if pitch is None:
            self.repair(i, f"{kind} {self.text[i : i + 3]!r} has no pitch (like C4 or f5); skipped")
            return i + 1
        if self.text[i] == alphabet.NOTE_ON:
            self.note_on(i, pitch)
        else:
            self.note_off(i, pitch)
        return i + 3

    def note_on(self, i: int, pitch: int) -> None:
        if not self.accepts(i, self.instrument):
            return
        key = (self.instrument, pitch)
        name = self.name(pitch)
        if key in self.sounding:
            start, _ = self.sounding[key]
            if start == self.tick:
                self.repair(i, f"{name} switched on twice in one tick; the second one ignored")
                return
            self.repair(i, f"{name} switched on while sounding; the earlier note ends here")
            self.close(key, self.tick)
        self.sounding[key] = (self.tick, self.velocity)

    def note_off(self, i: int, pitch: int) -> None:
        key = (self.instrument, pitch)
        if self.instrument in self.refused:
            return  # its note-ons were refused and reported already
        if key not in self.sounding:
            self.repair(i, f"note-off for {self.name(pitch)}, which is not sounding; dropped")
            return
        start, _ = self.sounding[key]
        if start == self.tick:
            self.repair(i, f"{self.name(pitch)} switched off in the tick it started; kept a tick")
        self.close(key, self.tick)

    def read_instrument(self, i: int) -> int:
        rest = self.text[i + 1 : i + 8]
        if rest.startswith(alphabet.DRUM_KIT):
            self.instrument = alphabet.DRUMS
            return i + 2
        digits = _leading_digits(rest, alphabet.MAX_PROGRAM_DIGITS)
        if digits and int(digits) <= 127:
            self.instrument = int(digits)
            return i + 1 + len(digits)
        shown = f"@{digits}" if digits else "@"
        self.repair(i, f"instrument {shown!r} is neither a program 0-127 nor D; skipped")
        return i + 1 + len(digits)

    def read_velocity(self, i: int) -> int:
        digit = self.text[i + 1 : i + 2]
        value = alphabet.VELOCITY_DIGITS.find(digit) if digit else -1
        if self.bins is None:
            self.repair(i, "velocity event in a text without velocity (--velocity-bins 0); skipped")
            return i + (2 if value >= 0 else 1)
        if value < 0 or value >= self.bins.count:
            self.repair(
                i, f"velocity {self.text[i : i + 2]!r} is not one of v0-v{self.last_bin}; skipped"
            )
            return i + (2 if value >= 0 else 1)
        self.velocity = self.bins.velocity(value)
        return i + 2

    def read_tempo(self, i: int) -> int:
        digits = _leading_digits(self.text[i + 1 : i + 8], len(str(alphabet.MAX_TEMPO)))
        if not digits or not alphabet.MIN_TEMPO <= int(digits) <= alphabet.MAX_TEMPO:
            limits = f"{alphabet.MIN_TEMPO}-{alphabet.MAX_TEMPO}"
            self.repair(i, f"tempo {'T' + digits!r} is not {limits} BPM; skipped")
            return i + 1 + len(digits)
        _set_at(self.score.tempos, self.tick, (self.tick, int(digits)))
        return i + 1 + len(digits)

    def read_meter(self, i: int) -> int:
        rest = self.text[i + 1 : i + 8]
        numerator = _leading_digits(rest, 2)
        after = rest[len(numerator) :]
        denominator = _leading_digits(after[1:], 2) if after.startswith("/") else ""
        length = 1 + len(numerator) + (1 + len(denominator) if after.startswith("/") else 0)
        if not (numerator and denominator) or not alphabet.valid_meter(
            int(numerator), int(denominator)
        ):
            shown = self.text[i : i + length]
            self.repair(i, f"meter {shown!r} is not like M4/4 or M6/8; skipped")
            return i + length
        _set_at(self.score.meters, self.tick, (self.tick, int(numerator), int(denominator)))
        return i + length

    # -- bookkeeping -------------------------------------------------------------------------

    @property
    def last_bin(self) -> str:
        return alphabet.VELOCITY_DIGITS[self.bins.count - 1] if self.bins else "0"

    def name(self, pitch: int) -> str:
        where = "" if self.instrument == alphabet.DEFAULT_PROGRAM else f" on {self.instrument_text}"
        return alphabet.pitch_name(pitch) + where

    @property
    def instrument_text(self) -> str:
        return alphabet.instrument(self.instrument)

    def accepts(self, i: int, instrument: int) -> bool:
        """MIDI has 15 melodic channels: notes of any further instrument are dropped."""
        if instrument == alphabet.DRUMS or instrument in self.melodic:
            return True
        if len(self.melodic) < MELODIC_CHANNELS:
            self.melodic.add(instrument)
            return True
        self.refused.add(instrument)
        self.repair(
            i,
            f"note on {self.instrument_text} dropped: MIDI has room for "
            f"{MELODIC_CHANNELS} melodic instruments only",
        )
        return False

    def close(self, key: tuple[int, int], end: int) -> None:
        start, velocity = self.sounding.pop(key)
        instrument, pitch = key
        self.score.notes.append(Note(start, max(end, start + 1), pitch, instrument, velocity))

    def finish(self) -> None:
        end = self.tick
        for instrument, pitch in list(self.sounding):
            where = (
                ""
                if instrument == alphabet.DEFAULT_PROGRAM
                else " on " + alphabet.instrument(instrument)
            )
            self.repairs.append(
                f"end: {alphabet.pitch_name(pitch)}{where} never switched off; closed at the end"
            )
            self.close((instrument, pitch), end)
        if self.ignored_waits:
            self.repairs.append(
                f"end: {self.ignored_waits} waits beyond the longest piece the codec writes "
                f"({self.limit} ticks) ignored"
            )
        if not self.score.tempos or self.score.tempos[0][0] != 0:
            self.repairs.append(
                f"start: no tempo (header like 'T96 M4/4'); played at {alphabet.DEFAULT_TEMPO} BPM"
            )
            self.score.tempos.insert(0, (0, alphabet.DEFAULT_TEMPO))
        if not self.score.meters or self.score.meters[0][0] != 0:
            self.repairs.append("start: no meter (header like 'T96 M4/4'); written in 4/4")
            self.score.meters.insert(0, (0, *alphabet.DEFAULT_METER))
        self.score.notes = resolve_overlaps(self.score.notes)


def _leading_digits(text: str, most: int) -> str:
    digits = ""
    for char in text[:most]:
        if char not in alphabet.DIGITS:
            break
        digits += char
    return digits


def _set_at(events: list, tick: int, event: tuple) -> None:
    """Record a tempo or meter; a later one in the same tick replaces the earlier."""
    if events and events[-1][0] == tick:
        events[-1] = event
    else:
        events.append(event)


def decode_text(
    text: str, ticks_per_beat: int, velocity_bins: VelocityBins | None
) -> tuple[Score, list[str]]:
    """The score a text describes and the repairs it needed; never raises."""
    decoder = _Decoder(text, ticks_per_beat, velocity_bins)
    return decoder.run(), decoder.repairs
