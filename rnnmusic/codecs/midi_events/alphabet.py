"""The characters of the midi-events text and how each event is spelled.

Every event starts with its own character, so a reader (and a grammar state machine) knows from
one character which event follows and how many characters it still needs. The full grammar, with
examples, is in `codecs/midi_events/README.md`.
"""

from __future__ import annotations

WAIT = "."  # one grid tick passes
NOTE_ON = "+"  # + pitch class, octave
NOTE_OFF = "-"  # - pitch class, octave
INSTRUMENT = "@"  # @ then a General MIDI program 0-127, or D for the drum channel
DRUM_KIT = "D"
VELOCITY = "v"  # v then one hexadecimal digit: the loudness bin of the next note-ons
TEMPO = "T"  # T then beats (quarter notes) per minute, 4-999
METER = "M"  # M then numerator / denominator, e.g. M3/4
BAR_LINE = "\n"  # layout only: written after the wait that starts a bar; never two in a row
HEADER_GAP = " "  # layout only: between the tempo and meter of the first line

PITCH_CLASSES = "CcDdEFfGgAaB"  # lower case = sharp: c is C#, f is F#
OCTAVES = "_0123456789"  # octave -1 (written _) to 9; C4 is middle C, MIDI note 60
DIGITS = "0123456789"
VELOCITY_DIGITS = "0123456789ABCDEF"

DRUMS = 128  # the instrument number used for the drum channel (MIDI channel 10)
DEFAULT_PROGRAM = 0  # notes before any @ event play on this instrument (acoustic grand piano)
DEFAULT_TEMPO = 120  # beats per minute, as MIDI assumes without a tempo event
DEFAULT_METER = (4, 4)

MIN_TEMPO = 4  # slower does not fit MIDI's 24-bit microseconds per beat
MAX_TEMPO = 999
MAX_PROGRAM_DIGITS = 3
MAX_METER_NUMERATOR = 99
METER_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)
MAX_VELOCITY_BINS = len(VELOCITY_DIGITS)

# Characters a piece may hold, by role; layout characters carry no timing.
EVENT_STARTS = WAIT + NOTE_ON + NOTE_OFF + INSTRUMENT + VELOCITY + TEMPO + METER
LAYOUT = BAR_LINE + HEADER_GAP


def pitch_name(pitch: int) -> str:
    """Two characters: pitch class then octave, e.g. 60 → 'C4', 61 → 'c4', 0 → 'C_'."""
    return PITCH_CLASSES[pitch % 12] + OCTAVES[pitch // 12]


def parse_pitch(pitch_class: str, octave: str) -> int | None:
    """The MIDI note number of a two-character pitch, or None if it is not one (or above 127)."""
    pc, octave_index = PITCH_CLASSES.find(pitch_class), OCTAVES.find(octave)
    if pc < 0 or octave_index < 0 or len(pitch_class) != 1 or len(octave) != 1:
        return None
    pitch = 12 * octave_index + pc
    return pitch if pitch <= 127 else None


def note_on(pitch: int) -> str:
    return NOTE_ON + pitch_name(pitch)


def note_off(pitch: int) -> str:
    return NOTE_OFF + pitch_name(pitch)


def instrument(program: int) -> str:
    return INSTRUMENT + (DRUM_KIT if program == DRUMS else str(program))


def velocity(bin_index: int) -> str:
    return VELOCITY + VELOCITY_DIGITS[bin_index]


def tempo(bpm: int) -> str:
    return f"{TEMPO}{bpm}"


def meter(numerator: int, denominator: int) -> str:
    return f"{METER}{numerator}/{denominator}"


def header(bpm: int, numerator: int, denominator: int) -> str:
    """The first line of every piece: initial tempo and meter."""
    return tempo(bpm) + HEADER_GAP + meter(numerator, denominator) + BAR_LINE


def valid_meter(numerator: int, denominator: int) -> bool:
    return 1 <= numerator <= MAX_METER_NUMERATOR and denominator in METER_DENOMINATORS
