"""Transposing a canonical tune by rewriting its text: key fields, notes, chord symbols.

An interval is a number of letter steps plus a number of semitones, so spelling follows the key
(G→A is two semitones over one letter). A note without an accidental takes its pitch from the key
signature, which moves with it; a written accidental moves by the semitones its letter gained or
lost. Notes, keys and bar-carried accidentals therefore stay consistent without tracking bars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rnnmusic.codecs.abc.alphabet import MAX_OCTAVE, MIN_OCTAVE, Note, Token, token
from rnnmusic.codecs.abc.fields import FIFTHS, LETTERS, MODES, NATURAL_SEMITONES, Key, parse_key
from rnnmusic.codecs.abc.tune import Tune


class CannotTranspose(Exception):
    """The tune has no tonic (K:none, K:Hp) or would need a spelling ABC cannot write."""


@dataclass(frozen=True)
class Interval:
    steps: int  # letters moved (signed)
    semitones: int  # pitch moved (signed)

    def delta(self, letter: str, octave: int = 0) -> tuple[str, int, int]:
        """The letter and octave a pitch moves to, and the alteration its accidental gains."""
        index = LETTERS.index(letter)
        diatonic = 7 * octave + index + self.steps
        new_letter, new_octave = LETTERS[diatonic % 7], diatonic // 7
        natural = 12 * new_octave + NATURAL_SEMITONES[diatonic % 7]
        natural -= 12 * octave + NATURAL_SEMITONES[index]
        return new_letter, new_octave, self.semitones - natural


def interval_to(source: Key, letter: str, alter: int, semitones: int) -> Interval:
    """The interval taking source's tonic to (letter, alter) when the pitch moves `semitones`."""
    up = (LETTERS.index(letter) - LETTERS.index(source.letter)) % 7
    steps = min((up, up - 7), key=lambda s: abs(s * 12 / 7 - semitones))
    return Interval(steps, semitones)


def signed_shift(semitones: int) -> int:
    """A pitch-class difference as the shift in -5 … +6 semitones."""
    semitones %= 12
    return semitones - 12 if semitones > 6 else semitones


def to_plain_key(tune: Tune) -> Tune:
    """The tune moved to the key signature without sharps or flats (C major, A minor, D dorian…),
    as folk-rnn normalised its corpus. Tunes without a tonic are returned unchanged."""
    key = tune.key
    if key.special:
        return tune
    letter = next(name for name, fifths in FIFTHS.items() if fifths == -MODES[key.mode])
    shift = signed_shift(NATURAL_SEMITONES[LETTERS.index(letter)] - key.pitch_class)
    if shift == 0 and key.fifths == 0:
        return tune
    try:
        return transpose(tune, interval_to(key, letter, 0, shift))
    except CannotTranspose:
        return tune


def all_keys(tune: Tune) -> list[Tune]:
    """The tune in all twelve keys (-5 … +6 semitones), the original first; each key spelled with
    the fewest sharps or flats. Shifts that cannot be written are left out."""
    if tune.key.special:
        return [tune]
    versions = [tune]
    for shift in range(-5, 7):
        if shift == 0:
            continue
        letter, alter = _simplest_tonic(tune.key, shift)
        try:
            versions.append(transpose(tune, interval_to(tune.key, letter, alter, shift)))
        except CannotTranspose:
            continue
    return versions


def _simplest_tonic(key: Key, shift: int) -> tuple[str, int]:
    target = (key.pitch_class + shift) % 12
    spellings = [
        (letter, alter)
        for letter in LETTERS
        for alter in (-1, 0, 1)
        if (NATURAL_SEMITONES[LETTERS.index(letter)] + alter) % 12 == target
    ]
    return min(spellings, key=lambda s: (abs(FIFTHS[s[0]] + 7 * s[1] + MODES[key.mode]), s[1]))


def transpose(tune: Tune, interval: Interval) -> Tune:
    lines = [[_transpose_token(tok, interval) for tok in line] for line in tune.lines]
    return replace(tune, key=transpose_key(tune.key, interval), lines=lines)


def transpose_key(key: Key, interval: Interval) -> Key:
    if key.special:
        raise CannotTranspose(f"K:{key.special} has no tonic")
    letter, _, gained = interval.delta(key.letter)
    alter = key.alter + gained
    if abs(alter) > 1:
        raise CannotTranspose("the new tonic would need a double accidental")
    extra = []
    for accidental, name in key.extra:
        new_letter, _, extra_gained = interval.delta(name.upper())
        if abs(accidental + extra_gained) > 2:
            raise CannotTranspose("a key accidental would need a triple accidental")
        extra.append((accidental + extra_gained, new_letter.lower()))
    moved = Key(letter=letter, alter=alter, mode=key.mode, extra=tuple(extra))
    if abs(moved.fifths) > 7:
        raise CannotTranspose("the new key would have more than seven sharps or flats")
    return moved


def _transpose_token(tok: Token, interval: Interval) -> Token:
    if isinstance(tok, Note):
        letter, octave, gained = interval.delta(tok.letter, tok.octave)
        accidental = None if tok.accidental is None else tok.accidental + gained
        if accidental is not None and abs(accidental) > 2:
            raise CannotTranspose("a note would need a triple accidental")
        if not MIN_OCTAVE <= octave <= MAX_OCTAVE:
            raise CannotTranspose("a note would leave the range the codec writes")
        return Note.make(letter, octave, accidental, tok.length)
    if tok.kind == "symbol":
        return token("symbol", _CHORD_ROOT.sub(lambda m: _move_root(m, interval), tok.text))
    if tok.kind == "field" and tok.text.startswith("[K:"):
        return token("field", f"[K:{_moved_key_text(tok.text[3:-1], interval)}]")
    if tok.kind == "fieldline" and tok.text.startswith("K:"):
        return token("fieldline", f"K:{_moved_key_text(tok.text[2:], interval)}")
    return tok


def _moved_key_text(text: str, interval: Interval) -> str:
    key = parse_key(text)
    if key is None:  # cannot happen for canonical text; keep the key as it is
        return text
    return transpose_key(key, interval).text


_CHORD_ROOT = re.compile(r'(?<=["/])([A-Ga-g])([#b]?)')


def _move_root(match: re.Match, interval: Interval) -> str:
    """A chord root or bass moved, respelled enharmonically if it would need two accidentals."""
    name, accidental = match.group(1), match.group(2)
    letter, _, gained = interval.delta(name.upper())
    alter = {"#": 1, "b": -1, "": 0}[accidental] + gained
    if abs(alter) > 1:
        pitch = (NATURAL_SEMITONES[LETTERS.index(letter)] + alter) % 12
        letter, alter = min(
            (
                (cand, (pitch - NATURAL_SEMITONES[LETTERS.index(cand)] + 6) % 12 - 6)
                for cand in LETTERS
            ),
            key=lambda c: abs(c[1]),
        )
    letter = letter if name.isupper() else letter.lower()
    return letter + {-1: "b", 0: "", 1: "#"}[alter]
