"""Playing the feature list from start to end the way abc2midi does: repeats and endings in
its order of passes, bar lines that restart the accompaniment, chord notes that enter 10 ticks
apart (30 after `!arpeggio!`), velocities by place in the bar (105 on the first beat, 95 on
other beats, 80 between; `!p!`, `!f!` … change them).

Time is counted in quarter notes exactly and turned into ticks (480 a quarter) by rounding
down, which is where abc2midi's running error correction puts every note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from rnnmusic.codecs.abc.play import features as F
from rnnmusic.codecs.abc.play.accompaniment import TICKS, Accompaniment
from rnnmusic.codecs.abc.play.features import Feature, PlayedNote
from rnnmusic.codecs.abc.play.score import Score

MELODY_CHANNEL = 0
CHORD_NOTE_DELAY, ARPEGGIO_NOTE_DELAY = 10, 30  # ticks between the notes of a chord
SECTION_ENDS = frozenset({F.REP_BAR, F.BAR_REP, F.DOUBLE_BAR, F.PLAY_ON_REP})


@dataclass
class Performance:
    """Every note a tune plays, in ticks of 1/480 quarter note, melody on channel 0 and the
    accompaniment (when the tune has chord symbols) on channels 1 (bass) and 2 (chords)."""

    notes: list[PlayedNote] = field(default_factory=list)
    meter: tuple[int, int] = (4, 4)
    ticks_per_beat: int = TICKS

    @property
    def end(self) -> int:
        return max((n.end for n in self.notes), default=0)


def in_list(endings: str, passes: int) -> bool:
    """Whether an ending ("2", "1,3", "1-3") is played on this pass."""
    for part in endings.split(","):
        low, _, high = part.partition("-")
        try:
            if int(low) <= passes <= int(high or low):
                return True
        except ValueError:
            return False
    return False


class _Walk:
    def __init__(self, score: Score, accompaniment: Accompaniment | None):
        self.features = score.features
        self.accompaniment = accompaniment
        self.notes: list[PlayedNote] = []
        self.position = Fraction(0)  # quarter notes
        self.bar_checks = score.bar_checks
        self.set_meter(*score.meter)
        self.bar_position = Fraction(0)  # in the meter's own units (eighths in 6/8)
        self.bar_number = 0
        self.velocities = (105, 95, 80)
        self.in_chord = False
        self.chord_notes = 0
        self.chord_delay = 0  # ticks the chord's later notes enter after its first
        self.note_delay = CHORD_NOTE_DELAY
        self.chord_length: Fraction | None = None
        self.meters_played: list[tuple[int, int]] = []

    def set_meter(self, num: int, den: int) -> None:
        self.bar_size = num
        self.beat = 3 if num % 3 == 0 else 2 if num % 2 == 0 else num
        self.unit_factor = Fraction(den // 4, 1) if den > 4 else Fraction(1, 4 // den)

    @property
    def tick(self) -> int:
        return math.floor(self.position * TICKS)

    def play(self) -> list[PlayedNote]:
        features = self.features
        passes, most_passes = 1, 2
        expect_repeat = False
        saved = (0, 0)
        j = 0
        while j < len(features):
            feature = features[j]
            kind = feature.kind
            if kind == F.NOTE:
                self.note(feature)
            elif kind == F.TNOTE:
                self.sound(feature, self.tick + self.chord_delay)
            elif kind == F.REST:
                if not self.in_chord:
                    self.wait(feature.length)
            elif kind == F.CHORD_ON:
                self.in_chord = True
                self.chord_length = None
            elif kind in (F.CHORD_OFF, F.CHORD_OFF_LENGTH):
                self.in_chord = False
                self.chord_notes = 0
                self.chord_delay = 0
                self.set_note_delay(CHORD_NOTE_DELAY)
                self.wait(feature.length)
            elif kind == F.SINGLE_BAR:
                self.check_bar()
            elif kind == F.DOUBLE_BAR:
                self.soft_check_bar()
            elif kind == F.BAR_REP:
                self.soft_check_bar()
                saved = (j, self.bar_number)
                expect_repeat = True
                passes, most_passes = 1, 2
            elif kind == F.REP_BAR:
                self.soft_check_bar()
                if passes == 1:
                    if expect_repeat:
                        passes += 1
                        j, self.bar_number = saved
                        expect_repeat = False
                elif passes < most_passes:
                    expect_repeat = False
                    passes += 1
                    j, self.bar_number = saved
            elif kind == F.PLAY_ON_REP:
                this_pass = passes if expect_repeat or passes > 1 else 1
                if not in_list(feature.endings, this_pass):
                    j += 1
                    while j < len(features) and features[j].kind not in SECTION_ENDS:
                        j += 1
                    self.bar_number += 1
                elif most_passes < 4:
                    most_passes = passes + 1
            elif kind == F.DOUBLE_REP:
                self.soft_check_bar()
                if passes > 1 or not expect_repeat:
                    if passes > 1:
                        most_passes = 2
                    expect_repeat = True
                    saved = (j, self.bar_number)
                    passes = 1
                else:
                    j, self.bar_number = saved
                    passes += 1
            elif kind == F.CHORD_SYMBOL:
                if self.accompaniment is not None:
                    assert feature.chord is not None
                    self.accompaniment.set_chord(feature.chord)
            elif kind == F.METER:
                assert feature.meter is not None
                self.bar_checks = bool(feature.pitch)
                self.set_meter(*feature.meter)
                self.meters_played.append(feature.meter)
                if self.accompaniment is not None:
                    self.accompaniment.set_meter(*feature.meter)
            elif kind == F.ARPEGGIO:
                self.set_note_delay(ARPEGGIO_NOTE_DELAY)
            elif kind == F.DYNAMIC:
                assert feature.velocities is not None
                self.velocities = feature.velocities
                self.beat = 1
            j += 1
        if self.accompaniment is not None:
            self.accompaniment.finish()
        return self.notes

    def note(self, feature: Feature) -> None:
        if self.in_chord:
            self.chord_notes += 1
            if self.chord_notes > 1:
                self.chord_delay += self.note_delay
            if self.chord_length is None:
                self.chord_length = feature.length
        self.sound(feature, self.tick + self.chord_delay)
        if not self.in_chord:
            self.wait(feature.length)
            self.chord_notes = 0
            self.chord_delay = 0

    def sound(self, feature: Feature, start: int) -> None:
        length = feature.length
        if self.in_chord and feature.kind == F.NOTE and self.chord_length is not None:
            length = self.chord_length  # abc2midi: "unequal notes in chord"
        assert length is not None
        end = math.floor((self.position + length) * TICKS)
        self.notes.append(
            PlayedNote(start, max(end, start + 1), feature.pitch, MELODY_CHANNEL, self.velocity())
        )

    def velocity(self) -> int:
        loud, medium, soft = self.velocities
        if self.bar_position == 0:
            return loud
        if self.bar_position.denominator == 1 and self.bar_position.numerator % self.beat == 0:
            return medium
        return soft

    def set_note_delay(self, ticks: int) -> None:
        self.note_delay = ticks
        if self.accompaniment is not None:
            self.accompaniment.note_delay = ticks

    def wait(self, length: Fraction | None) -> None:
        assert length is not None
        before = self.tick
        self.position += length
        self.bar_position += length * self.unit_factor
        if self.accompaniment is not None:
            self.accompaniment.advance(self.tick - before)

    def check_bar(self) -> None:
        if self.bar_position > 0:
            self.bar_number += 1
        self.bar_position = Fraction(0)
        if self.accompaniment is not None:
            self.accompaniment.bar()

    def soft_check_bar(self) -> None:
        """Repeat signs and double bars count as bar lines only where a bar is full (or
        before the first bar): a repeat in the middle of a bar does not restart it."""
        if self.bar_checks and (self.bar_position >= self.bar_size or self.bar_number <= 0):
            self.check_bar()


def walk(score: Score, chord_symbols: bool = True) -> Performance:
    """The tune played out: melody and, when asked and the tune has chord symbols abc2midi
    knows, the accompaniment."""
    melody = _Walk(score, None)
    notes = melody.play()
    accompaniment = None
    if chord_symbols and score.has_chords:
        accompaniment = Accompaniment([score.meter, *melody.meters_played])
        _Walk(score, accompaniment).play()
    if accompaniment is not None:
        notes += accompaniment.notes
    notes.sort(key=lambda n: (n.start, n.channel, n.pitch))
    return Performance(notes, score.meter)
