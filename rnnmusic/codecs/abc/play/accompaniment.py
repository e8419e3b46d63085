"""Chord symbols played as abc2midi plays them: a bass note and a chord in a pattern that fills
each bar ("fzczfzcz" in 4/4: bass, rest, chord, rest … in eighth notes).

abc2midi schedules the pattern's steps in the same queue as the notes waiting to end, and the
queue's rules (what falls due at the end of a rest is handled after the bar line that follows
it; a step that is still waiting when a bar line restarts the pattern plays nothing unless its
place in the pattern comes round again; inserting a note ahead of another moves the later one
`note_delay` ticks earlier) decide which step sounds when. So this module keeps such a queue
and follows the same rules, in ticks of 1/480 quarter note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from rnnmusic.codecs.abc.play.chords import voicing
from rnnmusic.codecs.abc.play.features import ChordName, PlayedNote

TICKS = 480  # per quarter note
BASS_CHANNEL, CHORD_CHANNEL = 1, 2
BASS_VELOCITY, CHORD_VELOCITY = 80, 75
# abc2midi's patterns by meter: f bass, c chord, b both, z nothing; each step an equal share
PATTERNS = {
    (2, 2): "fzczfzcz",
    (4, 4): "fzczfzcz",
    (2, 4): "fzcz",
    (6, 4): "fzczfzczfzcz",
    (3, 8): "fzczcz",
    (5, 8): "fzbcz",
    (5, 4): "fzbcz",
    (7, 8): "fzbczcz",
    (7, 4): "fzbczcz",
    (3, 4): "fzczcz",
    (6, 8): "fzcfzc",
    (9, 8): "fzcfzcfzc",
    (12, 8): "fzcfzcfzcfzc",
}
NO_PATTERN = "x"  # meters without a pattern play no accompaniment


@dataclass(eq=False)
class _Waiting:
    delay: int  # ticks after the item before it in the queue
    step: int  # a pattern step to play (its place in the pattern), or -1 for a note to end
    note: int = -1  # which of `notes` ends


@dataclass
class Accompaniment:
    """`meters`: the meter of the header, then the meter changes in the order the melody
    plays them. abc2midi plays the melody first and keeps the pattern of the last meter that
    has one, so a header meter without a pattern (3/2) starts with that one."""

    meters: list[tuple[int, int]]
    note_delay: int = 10
    notes: list[PlayedNote] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.queue: list[_Waiting] = []
        self.now = 0
        self.pattern = NO_PATTERN
        self.step_length = Fraction(4)  # of the "x" pattern, set up before any M: is read
        for meter in self.meters[1:]:
            self.set_meter(*meter)
        self.set_meter(*self.meters[0])
        self.place = 0  # next step of the pattern
        self.chord: ChordName | None = None
        self._add(0, _Waiting(0, 0))

    def set_meter(self, num: int, den: int) -> None:
        pattern = PATTERNS.get((num, den))
        if pattern is not None:
            self.pattern = pattern
            self.step_length = Fraction(num * 4, den * len(pattern))

    def set_chord(self, chord: ChordName) -> None:
        self.chord = chord

    def bar(self) -> None:
        """A bar line the player counts as one: the pattern starts again."""
        self.place = 0
        self._add(0, _Waiting(0, 0))

    def advance(self, ticks: int) -> None:
        """Time passes: steps and note ends that fall due before the end play."""
        while self.queue and self.queue[0].delay < ticks:
            head = self.queue[0]
            self.now += head.delay
            ticks -= head.delay
            head.delay = 0
            if head.step >= 0:
                self._play(head.step)
            else:
                self._end(head)
            self.queue.remove(head)
        if self.queue:
            self.queue[0].delay -= ticks
        self.now += ticks

    def finish(self) -> None:
        """The tune ends: steps still waiting are dropped, sounding notes end on time."""
        for item in self.queue:
            self.now += item.delay
            if item.step < 0:
                self._end(item)
        self.queue = []

    # -- the queue ---------------------------------------------------------------------------

    def _add(self, wait: int, item: _Waiting) -> None:
        for i, other in enumerate(self.queue):
            if other.delay > wait:
                other.delay = max(other.delay - wait - self.note_delay, 0)
                item.delay = wait
                self.queue.insert(i, item)
                return
            wait -= other.delay
        item.delay = wait
        self.queue.append(item)

    def _play(self, step: int) -> None:
        if self.place >= len(self.pattern):
            self.place = 0
        if step != self.place:
            return  # a step the bar line's restart overtook
        action = self.pattern[self.place]
        length = self.step_length
        ticks = TICKS * length.numerator // length.denominator
        if self.chord is not None and action in "fbc":
            bass, chord = voicing(self.chord)
            if action in "fb":
                self._start(bass, BASS_CHANNEL, BASS_VELOCITY, ticks)
            if action in "bc":
                for pitch in chord:
                    self._start(pitch, CHORD_CHANNEL, CHORD_VELOCITY, ticks)
        self.place += 1
        self._add(ticks, _Waiting(0, self.place))
        if self.place >= len(self.pattern):
            self.place = 0

    def _start(self, pitch: int, channel: int, velocity: int, ticks: int) -> None:
        """A note that ends a tick before the step does, as abc2midi ends it."""
        self.notes.append(PlayedNote(self.now, self.now + ticks, pitch, channel, velocity))
        self._add(ticks - 1, _Waiting(0, -1, len(self.notes) - 1))

    def _end(self, item: _Waiting) -> None:
        note = self.notes[item.note]
        note.end = max(self.now, note.start + 1)
