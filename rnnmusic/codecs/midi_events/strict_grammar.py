"""The syntax layer of strict sampling for midi-events: the text as a finite state machine.

Header first, events spelled right, numbers in range, a bar line only after a wait, the
blank-line separator last; settings (tempos, meters, instruments) kept to what a corpus profile
records. States are named tuples (`Plain`, `Number`, `BarStart`, `Body`, `Pitch`, `Program`, each
kind first); every transition comes with an `Action` that names what it
requires of the sounding keys, which the *meaning* layer (strict.py) tracks per sample as
tensors after compiling this machine over the model's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.profile import BODY_METER, METER, PROGRAM, TEMPO
from rnnmusic.profile import COVERAGE, CorpusProfile

PITCHES = 128
INSTRUMENTS = 129  # programs 0-127 and the drums
ALL_KEYS = frozenset(range(PITCHES))
# where a body state stands in its tick (what the canonical order still allows)
BAR_START, TICK_START, AFTER_METER, AFTER_TEMPO, IN_NOTES = range(5)
ON, OFF = 1, 2


# The machine's states. Each is a tuple whose first field names its kind, so states hash and
# compare as the plain tuples they are (the table compiler only needs that); the field names say
# what the other positions hold.


class Plain(NamedTuple):
    """A state that is its kind alone: "tempo" and "meter" (the header's T and M to come), "end"
    (the separator's second newline to come), "done", "on"/"off" (a note event's pitch class to
    come), "@" (an instrument to come), "v" (a loudness digit), "switched" (after "@D"),
    "note-on!" (after "v5": the note-on it sets the loudness of)."""

    kind: str


class Number(NamedTuple):
    """A tempo ("tempo#") or meter ("meter#") being spelled."""

    kind: str
    written: str  # the digits (and "/") so far
    in_header: bool  # the header's (ended by a gap or the newline), else a change in the body


class BarStart(NamedTuple):
    """Just after a bar line ("bar")."""

    kind: str
    first_bar: bool  # the piece's first bar, right after the header


class Body(NamedTuple):
    """Between events, inside a bar ("body")."""

    kind: str
    after_wait: bool  # the last event was a wait, so a bar line may follow
    stage: int  # where the tick stands: BAR_START … IN_NOTES


class Pitch(NamedTuple):
    """A note event's octave to come ("on." / "off.")."""

    kind: str
    pitch_class: int  # 0-11, C to B


class Program(NamedTuple):
    """An instrument's program number being spelled ("@#")."""

    kind: str
    value: int  # the number so far
    digits: int  # digits written


@dataclass(frozen=True)
class Action:
    """What one character does, and what it requires of the sample's sounding keys."""

    instrument: int = -1  # the instrument this character switches to (-1: none)
    instrument_set: frozenset[int] | None = None  # some instrument in here must be allowed
    note_kind: int = 0  # ON / OFF: some key of `note_set` must be silent / switched-off-able
    note_set: frozenset[int] | None = None
    note: int = -1  # the key a completed note event switches
    wait: bool = False
    end: bool = False  # the piece ends: nothing may sound
    new_event: bool = False  # starts an event that closing forbids (note-on, @, v, T, M)
    is_switch: bool = False  # starts an instrument switch (closing allows one to reach notes)
    after_switch: bool = False  # a wait right after a switch: only where no note can follow
    pickup: bool = False  # the header's meter is one training pieces only open with
    opens_meter: bool = False  # the "M" of a meter change
    settles: bool = False  # a meter change to one training pieces keep after their first bar


@dataclass(frozen=True)
class Settings:
    """The values a sample may spell: by default every one the grammar allows; with a corpus
    profile, the ones its training pieces use."""

    tempos: frozenset[str] = frozenset(
        str(t) for t in range(alphabet.MIN_TEMPO, alphabet.MAX_TEMPO + 1)
    )
    meters: frozenset[str] = frozenset(
        f"{n}/{d}"
        for n in range(1, alphabet.MAX_METER_NUMERATOR + 1)
        for d in alphabet.METER_DENOMINATORS
    )
    programs: frozenset[int] = frozenset(range(INSTRUMENTS))  # 128: the drums
    # meters after the first bar: a chorale's 1/4 pickup bar is followed by 4/4, never by more
    # 1/4 bars (None: the same as `meters`)
    body_meters: frozenset[str] | None = None

    @property
    def settled_meters(self) -> frozenset[str]:
        return self.meters if self.body_meters is None else self.body_meters

    @classmethod
    def from_profile(cls, profile: CorpusProfile | None) -> Settings:
        default = cls()
        if profile is None:
            return default
        programs = _kept(profile, PROGRAM, {alphabet.DRUM_KIT, *map(str, range(alphabet.DRUMS))})
        return cls(
            tempos=_kept(profile, TEMPO, default.tempos) or default.tempos,
            meters=_kept(profile, METER, default.meters) or default.meters,
            programs=frozenset(
                alphabet.DRUMS if p == alphabet.DRUM_KIT else int(p) for p in programs
            )
            or default.programs,
            body_meters=_kept(profile, BODY_METER, default.meters) or None,
        )


def _kept(profile: CorpusProfile, name: str, valid) -> frozenset[str]:
    """The corpus's usual values of a setting that the grammar can spell (empty: unknown)."""
    return (profile.allowed(name, COVERAGE) or frozenset()) & frozenset(valid)


class MidiEventsSyntax:
    """The text as a state machine; states are named tuples, actions describe meaning."""

    start = Plain("tempo")

    def __init__(self, velocity_bins: int, settings: Settings | None = None):
        self.bins = velocity_bins if velocity_bins > 1 else 0
        self.settings = settings or Settings()
        self.tempo_prefixes = _prefixes(self.settings.tempos)
        self.meter_prefixes = _prefixes(self.settings.meters)
        self.body_meter_prefixes = _prefixes(self.settings.settled_meters)

    def is_done(self, state) -> bool:
        return state.kind == "done"

    def step(self, state, ch: str):
        result = self.transition(state, ch)
        return None if result is None else result[0]

    def transition(self, state, ch: str) -> tuple[tuple, Action] | None:
        kind = state.kind
        if kind == "tempo":  # header: T
            return (Number("tempo#", "", True), Action()) if ch == alphabet.TEMPO else None
        if kind == "tempo#":
            return self._tempo(state, ch)
        if kind == "meter":
            return (Number("meter#", "", True), Action()) if ch == alphabet.METER else None
        if kind == "meter#":
            return self._meter(state, ch)
        if kind in ("body", "bar"):
            return self._body(state, ch)
        if kind == "end":  # after a newline that can only be the separator's first half
            return (Plain("done"), Action(end=True)) if ch == alphabet.BAR_LINE else None
        if kind in ("on", "off"):
            return self._pitch_class(state, ch)
        if kind in ("on.", "off."):
            return self._octave(state, ch)
        if kind == "@":
            if ch == alphabet.DRUM_KIT and alphabet.DRUMS in self.settings.programs:
                drums = frozenset([alphabet.DRUMS])
                return (Plain("switched"), Action(instrument=alphabet.DRUMS, instrument_set=drums))
            if ch in alphabet.DIGITS:
                return self._program_digit(0, 0, ch)
            return None
        if kind == "@#":
            return self._program(state, ch)
        if kind == "v":
            value = alphabet.VELOCITY_DIGITS.find(ch)
            return (Plain("note-on!"), Action()) if 0 <= value < self.bins else None
        if kind == "switched":  # after "@D"
            return self._after_switch(ch)
        if kind == "note-on!":  # after "v5": the note-on it sets the loudness of
            return self._note_event(ch, allow_velocity=False, only_on=True)
        return None

    # -- pieces of the machine ------------------------------------------------------------------

    def _body(self, state, ch: str):
        """Between events, in the canonical order the encoder writes: a meter change only at
        the start of a bar, then a tempo change, then notes (each "@" and "v" right before the
        note it sets up), a wait, a bar line after a wait. States: `BarStart` just after a bar
        line, `Body` elsewhere."""
        at_bar_start = state.kind == "bar"
        if at_bar_start:
            first, after_wait, stage = state.first_bar, True, BAR_START
        else:
            first, after_wait, stage = False, state.after_wait, state.stage
        if ch == alphabet.WAIT:
            return Body("body", True, TICK_START), Action(wait=True)
        if ch == alphabet.BAR_LINE:
            if at_bar_start:  # "\n\n": the piece ends here (never right after the header)
                return None if first else (Plain("done"), Action(end=True))
            if stage in (AFTER_METER, AFTER_TEMPO):  # a setting that nothing follows
                return None
            if after_wait:
                return BarStart("bar", False), Action()
            return Plain("end"), Action(end=True)  # the separator's first newline
        if ch == alphabet.METER and stage == BAR_START and not first:
            return Number("meter#", "", False), Action(new_event=True, opens_meter=True)
        if ch == alphabet.TEMPO and stage in (BAR_START, TICK_START, AFTER_METER) and not first:
            return Number("tempo#", "", False), Action(new_event=True)
        return self._note_event(ch, allow_velocity=True)

    def _after_switch(self, ch: str):
        """A switch sets up a note; a wait only where no note can follow (all keys sounding and
        none releasable yet: the constraint prefers a note wherever one is allowed)."""
        if ch == alphabet.WAIT:
            return Body("body", True, TICK_START), Action(wait=True, after_switch=True)
        if ch == alphabet.VELOCITY and self.bins:
            return Plain("v"), Action(new_event=True, note_kind=ON, note_set=ALL_KEYS)
        return self._note_event(ch, allow_velocity=False)

    def _note_event(self, ch: str, allow_velocity: bool, only_on: bool = False):
        """A note event, an instrument switch or a loudness, which a note must follow."""
        if ch == alphabet.NOTE_ON:
            return Plain("on"), Action(
                note_kind=ON, note_set=frozenset(range(PITCHES)), new_event=True
            )
        if only_on:
            return None
        if ch == alphabet.NOTE_OFF:
            return Plain("off"), Action(note_kind=OFF, note_set=frozenset(range(PITCHES)))
        if ch == alphabet.INSTRUMENT and allow_velocity:  # only where some instrument has a use
            switch = Action(new_event=True, is_switch=True, instrument_set=self.settings.programs)
            return Plain("@"), switch
        # a loudness only where a note-on may follow
        if ch == alphabet.VELOCITY and self.bins and allow_velocity:
            return Plain("v"), Action(new_event=True, note_kind=ON, note_set=ALL_KEYS)
        return None

    def _pitch_class(self, state, ch: str):
        pc = alphabet.PITCH_CLASSES.find(ch) if len(ch) == 1 else -1
        if pc < 0:
            return None
        keys = frozenset(p for p in range(pc, PITCHES, 12))
        kind = ON if state.kind == "on" else OFF
        return Pitch(state.kind + ".", pc), Action(note_kind=kind, note_set=keys)

    def _octave(self, state, ch: str):
        octave = alphabet.OCTAVES.find(ch) if len(ch) == 1 else -1
        pitch = 12 * octave + state.pitch_class
        if octave < 0 or pitch >= PITCHES:
            return None
        kind = ON if state.kind == "on." else OFF
        after = Body("body", False, IN_NOTES)
        return after, Action(note_kind=kind, note_set=frozenset([pitch]), note=pitch)

    def _tempo(self, state, ch: str):
        """Tempo digits; in the header the number ends at the gap, in the body at any event."""
        written, header = state.written, state.in_header
        if ch in alphabet.DIGITS:
            return (
                (Number("tempo#", written + ch, header), Action())
                if (written + ch in self.tempo_prefixes)
                else None
            )
        if written not in self.settings.tempos:
            return None
        if header:
            return (Plain("meter"), Action()) if ch == alphabet.HEADER_GAP else None
        return self._body(Body("body", False, AFTER_TEMPO), ch)

    def _meter(self, state, ch: str):
        """Numerator, "/", denominator; the header's meter ends at the newline. The header may
        open with a pickup-only meter (a chorale's 1/4), which the second bar must change;
        changes in the body spell the meters training pieces keep after their first bar."""
        written, header = state.written, state.in_header
        meters = self.settings.meters if header else self.settings.settled_meters
        prefixes = self.meter_prefixes if header else self.body_meter_prefixes
        if ch in alphabet.DIGITS or ch == "/":
            return (
                (Number("meter#", written + ch, header), Action())
                if written + ch in prefixes
                else None
            )
        if written not in meters:
            return None
        if header:
            pickup = written not in self.settings.settled_meters
            return (
                (BarStart("bar", True), Action(pickup=pickup)) if ch == alphabet.BAR_LINE else None
            )
        follow = self._body(Body("body", False, AFTER_METER), ch)
        return None if follow is None else (follow[0], replace(follow[1], settles=True))

    def _program_digit(self, value: int, digits: int, ch: str):
        new = Program("@#", value * 10 + int(ch), digits + 1)
        reachable = frozenset(_completions(new.value, new.digits)) & self.settings.programs
        if not reachable:
            return None
        return new, Action(instrument_set=reachable)

    def _program(self, state, ch: str):
        value, digits = state.value, state.digits
        if ch in alphabet.DIGITS:
            return self._program_digit(value, digits, ch) if digits < 3 else None
        if value not in self.settings.programs:
            return None
        follow = self._after_switch(ch)
        if follow is None:
            return None
        nxt, action = follow
        return nxt, replace(action, instrument=value, instrument_set=frozenset([value]))


def _prefixes(words: frozenset[str]) -> frozenset[str]:
    return frozenset(w[:i] for w in words for i in range(1, len(w) + 1))


def _completions(value: int, digits: int) -> list[int]:
    """Programs 0-127 a number written so far can still become (at most 3 digits)."""
    found, frontier = [], [(value, digits)]
    while frontier:
        v, d = frontier.pop()
        if v <= 127:
            found.append(v)
        if d < 3 and v * 10 <= 127:
            frontier.extend((v * 10 + k, d + 1) for k in range(10))
    return found
