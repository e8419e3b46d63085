"""Grammar-constrained sampling for midi-events: only text that decodes with zero repairs.

Two layers. The *syntax* (header first, events spelled right, numbers in range, a bar line only
after a wait, the blank-line separator last) is a finite state machine, enumerated once over
the model's vocabulary into tables. The *meaning* (a note-off only for a sounding note that did
not start this tick, a note-on only for a silent key, at most 15 melodic instruments, nothing
sounding when the piece ends, waits within the longest piece) needs to know which keys sound:
each sample carries (instrument × key) bitmaps as tensors, and every transition names what it
requires of them. A partial event (`-`, then `-C`) already requires that some completion is
allowed, so a sample never walks into a dead end.

Near the length limit a sample closes: no new notes, instruments or settings; it switches off
what sounds and writes the separator, so it is never cut off mid-piece.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from rnnmusic.codecs.midi_events import grammar as g
from rnnmusic.codecs.midi_events.profile import (
    BODY_METER,
    MELODIC,
    METER,
    PITCH_RANGE,
    POLYPHONY,
    PROGRAM,
    TEMPO,
)
from rnnmusic.codecs.midi_events.score import MELODIC_CHANNELS, max_ticks
from rnnmusic.constraints import UNREACHABLE, Constraint, distances_to_end, explore
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import COVERAGE, TYPICAL, CorpusProfile

PITCHES = 128
INSTRUMENTS = 129  # programs 0-127 and the drums
MIN_NOTES = 16  # a piece shorter than this is not a piece a listener keeps
CLOSING_MARGIN = 20  # slack before the end: a note event in progress ("@123v3+C4") and what it adds
NO_SET = -1
ALL_KEYS = frozenset(range(PITCHES))
# where a body state stands in its tick (what the canonical order still allows)
BAR_START, TICK_START, AFTER_METER, AFTER_TEMPO, IN_NOTES = range(5)
ON, OFF = 1, 2


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

    tempos: frozenset[str] = frozenset(str(t) for t in range(g.MIN_TEMPO, g.MAX_TEMPO + 1))
    meters: frozenset[str] = frozenset(
        f"{n}/{d}" for n in range(1, g.MAX_METER_NUMERATOR + 1) for d in g.METER_DENOMINATORS
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
        programs = _kept(profile, PROGRAM, {g.DRUM_KIT, *map(str, range(g.DRUMS))})
        return cls(
            tempos=_kept(profile, TEMPO, default.tempos) or default.tempos,
            meters=_kept(profile, METER, default.meters) or default.meters,
            programs=frozenset(g.DRUMS if p == g.DRUM_KIT else int(p) for p in programs)
            or default.programs,
            body_meters=_kept(profile, BODY_METER, default.meters) or None,
        )


def _kept(profile: CorpusProfile, name: str, valid) -> frozenset[str]:
    """The corpus's usual values of a setting that the grammar can spell (empty: unknown)."""
    return (profile.allowed(name, COVERAGE) or frozenset()) & frozenset(valid)


class MidiEventsSyntax:
    """The text as a state machine; states are small tuples, actions describe meaning."""

    start = ("tempo",)

    def __init__(self, velocity_bins: int, settings: Settings | None = None):
        self.bins = velocity_bins if velocity_bins > 1 else 0
        self.settings = settings or Settings()
        self.tempo_prefixes = _prefixes(self.settings.tempos)
        self.meter_prefixes = _prefixes(self.settings.meters)
        self.body_meter_prefixes = _prefixes(self.settings.settled_meters)

    def is_done(self, state) -> bool:
        return state[0] == "done"

    def step(self, state, ch: str):
        result = self.transition(state, ch)
        return None if result is None else result[0]

    def transition(self, state, ch: str) -> tuple[tuple, Action] | None:
        kind = state[0]
        if kind == "tempo":  # header: T
            return (("tempo#", "", True), Action()) if ch == g.TEMPO else None
        if kind == "tempo#":
            return self._tempo(state, ch)
        if kind == "meter":
            return (("meter#", "", True), Action()) if ch == g.METER else None
        if kind == "meter#":
            return self._meter(state, ch)
        if kind in ("body", "bar"):
            return self._body(state, ch)
        if kind == "end":  # after a newline that can only be the separator's first half
            return (("done",), Action(end=True)) if ch == g.BAR_LINE else None
        if kind in ("on", "off"):
            return self._pitch_class(state, ch)
        if kind in ("on.", "off."):
            return self._octave(state, ch)
        if kind == "@":
            if ch == g.DRUM_KIT and g.DRUMS in self.settings.programs:
                drums = frozenset([g.DRUMS])
                return (("switched",), Action(instrument=g.DRUMS, instrument_set=drums))
            if ch in g.DIGITS:
                return self._program_digit(0, 0, ch)
            return None
        if kind == "@#":
            return self._program(state, ch)
        if kind == "v":
            value = g.VELOCITY_DIGITS.find(ch)
            return (("note-on!",), Action()) if 0 <= value < self.bins else None
        if kind == "switched":  # after "@D"
            return self._after_switch(ch)
        if kind == "note-on!":  # after "v5": the note-on it sets the loudness of
            return self._note_event(ch, allow_velocity=False, only_on=True)
        return None

    # -- pieces of the machine ------------------------------------------------------------------

    def _body(self, state, ch: str):
        """Between events, in the canonical order the encoder writes: a meter change only at
        the start of a bar, then a tempo change, then notes (each "@" and "v" right before the
        note it sets up), a wait, a bar line after a wait. States: ("bar", first_bar_of_piece)
        just after a bar line, ("body", after_wait, stage) elsewhere."""
        if state[0] == "bar":
            first, after_wait, stage = state[1], True, BAR_START
        else:
            first, after_wait, stage = False, state[1], state[2]
        if ch == g.WAIT:
            return ("body", True, TICK_START), Action(wait=True)
        if ch == g.BAR_LINE:
            if state[0] == "bar":  # "\n\n": the piece ends here (never right after the header)
                return None if first else (("done",), Action(end=True))
            if stage in (AFTER_METER, AFTER_TEMPO):  # a setting that nothing follows
                return None
            if after_wait:
                return ("bar", False), Action()
            return ("end",), Action(end=True)  # the separator's first newline
        if ch == g.METER and stage == BAR_START and not first:
            return ("meter#", "", False), Action(new_event=True, opens_meter=True)
        if ch == g.TEMPO and stage in (BAR_START, TICK_START, AFTER_METER) and not first:
            return ("tempo#", "", False), Action(new_event=True)
        return self._note_event(ch, allow_velocity=True)

    def _after_switch(self, ch: str):
        """A switch sets up a note; a wait only where no note can follow (all keys sounding and
        none releasable yet: the constraint prefers a note wherever one is allowed)."""
        if ch == g.WAIT:
            return ("body", True, TICK_START), Action(wait=True, after_switch=True)
        if ch == g.VELOCITY and self.bins:
            return ("v",), Action(new_event=True, note_kind=ON, note_set=ALL_KEYS)
        return self._note_event(ch, allow_velocity=False)

    def _note_event(self, ch: str, allow_velocity: bool, only_on: bool = False):
        """A note event, an instrument switch or a loudness, which a note must follow."""
        if ch == g.NOTE_ON:
            return ("on",), Action(note_kind=ON, note_set=frozenset(range(PITCHES)), new_event=True)
        if only_on:
            return None
        if ch == g.NOTE_OFF:
            return ("off",), Action(note_kind=OFF, note_set=frozenset(range(PITCHES)))
        if ch == g.INSTRUMENT and allow_velocity:  # only where some instrument has a use
            switch = Action(new_event=True, is_switch=True, instrument_set=self.settings.programs)
            return ("@",), switch
        if ch == g.VELOCITY and self.bins and allow_velocity:  # only where a note-on may follow
            return ("v",), Action(new_event=True, note_kind=ON, note_set=ALL_KEYS)
        return None

    def _pitch_class(self, state, ch: str):
        pc = g.PITCH_CLASSES.find(ch) if len(ch) == 1 else -1
        if pc < 0:
            return None
        keys = frozenset(p for p in range(pc, PITCHES, 12))
        kind = ON if state[0] == "on" else OFF
        return (state[0] + ".", pc), Action(note_kind=kind, note_set=keys)

    def _octave(self, state, ch: str):
        octave = g.OCTAVES.find(ch) if len(ch) == 1 else -1
        pitch = 12 * octave + state[1]
        if octave < 0 or pitch >= PITCHES:
            return None
        kind = ON if state[0] == "on." else OFF
        after = ("body", False, IN_NOTES)
        return after, Action(note_kind=kind, note_set=frozenset([pitch]), note=pitch)

    def _tempo(self, state, ch: str):
        """Tempo digits; in the header the number ends at the gap, in the body at any event."""
        _, written, header = state
        if ch in g.DIGITS:
            return (
                (("tempo#", written + ch, header), Action())
                if (written + ch in self.tempo_prefixes)
                else None
            )
        if written not in self.settings.tempos:
            return None
        if header:
            return (("meter",), Action()) if ch == g.HEADER_GAP else None
        return self._body(("body", False, AFTER_TEMPO), ch)

    def _meter(self, state, ch: str):
        """Numerator, "/", denominator; the header's meter ends at the newline. The header may
        open with a pickup-only meter (a chorale's 1/4), which the second bar must change;
        changes in the body spell the meters training pieces keep after their first bar."""
        _, written, header = state
        meters = self.settings.meters if header else self.settings.settled_meters
        prefixes = self.meter_prefixes if header else self.body_meter_prefixes
        if ch in g.DIGITS or ch == "/":
            return (
                (("meter#", written + ch, header), Action()) if written + ch in prefixes else None
            )
        if written not in meters:
            return None
        if header:
            pickup = written not in self.settings.settled_meters
            return (("bar", True), Action(pickup=pickup)) if ch == g.BAR_LINE else None
        follow = self._body(("body", False, AFTER_METER), ch)
        return None if follow is None else (follow[0], replace(follow[1], settles=True))

    def _program_digit(self, value: int, digits: int, ch: str):
        new = (value * 10 + int(ch), digits + 1)
        reachable = frozenset(_completions(*new)) & self.settings.programs
        if not reachable:
            return None
        return ("@#", *new), Action(instrument_set=reachable)

    def _program(self, state, ch: str):
        _, value, digits = state
        if ch in g.DIGITS:
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


class MidiEventsConstraint(Constraint):
    """The syntax tables plus per-sample sounding keys, all as tensors."""

    def __init__(
        self,
        vocab: list[str],
        ticks_per_beat: int,
        velocity_bins: int,
        profile: CorpusProfile | None = None,
    ):
        self.settings = Settings.from_profile(profile)
        self.syntax = MidiEventsSyntax(velocity_bins, self.settings)
        self.limit = max_ticks(ticks_per_beat)
        self.max_melodic, self.max_voices, self.min_notes = _sizes(profile)
        span = profile.quantile(PITCH_RANGE, TYPICAL) if profile is not None else None
        self.max_span = PITCHES if span is None else max(12, math.ceil(span))
        self._compile(vocab)

    def _compile(self, vocab: list[str]) -> None:
        syntax = self.syntax
        order, rows = explore(syntax.start, vocab, syntax.transition, syntax.is_done)
        states, width = len(order), len(vocab)
        sink = states
        note_sets: dict[frozenset, int] = {}
        instrument_sets: dict[frozenset, int] = {}

        def set_id(table: dict, members: frozenset | None) -> int:
            if members is None:
                return NO_SET
            return table.setdefault(members, len(table))

        def full(value, dtype=torch.long):
            return torch.full((states + 1, width), value, dtype=dtype)

        self.next_state = full(sink)
        self.instrument = full(-1)
        self.instrument_set = full(NO_SET)
        self.note_kind = full(0)
        self.note_set = full(NO_SET)
        self.note = full(-1)
        self.wait = full(False, torch.bool)
        self.end = full(False, torch.bool)
        self.new_event = full(False, torch.bool)
        self.is_switch = full(False, torch.bool)
        self.after_switch = full(False, torch.bool)
        self.pickup = full(False, torch.bool)
        self.opens_meter = full(False, torch.bool)
        self.settles = full(False, torch.bool)
        for s, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                target, action = cell
                self.next_state[s, c] = target
                self.instrument[s, c] = action.instrument
                self.instrument_set[s, c] = set_id(instrument_sets, action.instrument_set)
                self.note_kind[s, c] = action.note_kind
                self.note_set[s, c] = set_id(note_sets, action.note_set)
                self.note[s, c] = action.note
                self.wait[s, c] = action.wait
                self.end[s, c] = action.end
                self.new_event[s, c] = action.new_event
                self.is_switch[s, c] = action.is_switch
                self.after_switch[s, c] = action.after_switch
                self.pickup[s, c] = action.pickup
                self.opens_meter[s, c] = action.opens_meter
                self.settles[s, c] = action.settles
        # the instrument a state's switching characters switch to (one per state, or -1)
        self.switch_target = self.instrument.max(dim=1).values
        self.note_sets = _membership(note_sets, PITCHES)
        self.instrument_sets = _membership(instrument_sets, INSTRUMENTS)
        done = [syntax.is_done(s) for s in order]
        self.is_done = torch.tensor(done + [False])
        # the start of a bar after the first, where a pickup's meter must give way
        self.later_bar = torch.tensor([s[0] == "bar" and not s[1] for s in order] + [False])
        self.distance = torch.tensor(distances_to_end(rows, done) + [UNREACHABLE])
        finite = self.distance[self.distance < UNREACHABLE]
        self.longest_finish = int(finite.max()) if finite.numel() else 0

    # -- the Constraint protocol ----------------------------------------------------------------

    def reset(self, batch: int, device: torch.device) -> None:
        for name in _TABLES:
            setattr(self, name, getattr(self, name).to(device))
        self.set_sizes = self.note_sets.sum(1)
        self.set_columns = self.note_sets.float().t().contiguous()  # (P, K) for set counts
        self.rows = torch.arange(batch, device=device)
        self.state = torch.zeros(batch, dtype=torch.long, device=device)
        self.current = torch.full((batch,), g.DEFAULT_PROGRAM, dtype=torch.long, device=device)
        self.sounding = torch.zeros(batch, INSTRUMENTS, PITCHES, dtype=torch.bool, device=device)
        # the tick each key last sounded from: "switched on in the current tick" is a compare,
        # so a wait needs no clearing of a (B, 129, 128) table
        self.onset_tick = torch.full(self.sounding.shape, -1, dtype=torch.int32, device=device)
        self.held_by = torch.zeros(batch, INSTRUMENTS, dtype=torch.long, device=device)
        self.fresh_by = torch.zeros_like(self.held_by)
        self.used = torch.zeros(batch, INSTRUMENTS, dtype=torch.bool, device=device)
        self.ticks = torch.zeros(batch, dtype=torch.long, device=device)
        self.notes = torch.zeros(batch, dtype=torch.long, device=device)
        # the melodic notes' span so far: no wider than 95% of the training pieces'
        self.lowest = torch.full((batch,), PITCHES, dtype=torch.long, device=device)
        self.highest = torch.full((batch,), -1, dtype=torch.long, device=device)
        self.keys = torch.arange(PITCHES, device=device)
        self.closing = torch.zeros(batch, dtype=torch.bool, device=device)
        self.in_pickup = torch.zeros(batch, dtype=torch.bool, device=device)
        self.program_ok = torch.zeros(INSTRUMENTS, dtype=torch.bool, device=device)
        self.program_ok[sorted(self.settings.programs)] = True
        if int(self.distance[0]) >= UNREACHABLE:
            raise RnnMusicError(
                "this model's vocabulary cannot spell a whole midi-events piece, so --strict "
                "cannot guarantee valid samples; sample with --no-strict"
            )

    def shortest_piece(self) -> int:
        return int(self.distance[0])

    def _key_sets(self, instrument: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample and key set: is some key of the set silent (and, on a melodic instrument,
        within the piece's span) / releasable on `instrument`?"""
        sounding = self.sounding[self.rows, instrument]  # (B, P)
        started = self.onset_tick[self.rows, instrument] == self.ticks[:, None]
        releasable = sounding & ~started
        keys = self.keys[None, :]
        within = (keys >= self.highest[:, None] - self.max_span) & (
            keys <= self.lowest[:, None] + self.max_span
        )
        within |= (instrument == g.DRUMS)[:, None]
        free = ((~sounding & within).float() @ self.set_columns) > 0  # (B, K)
        return free, (releasable.float() @ self.set_columns) > 0

    def allowed(self, steps_left: torch.Tensor, may_end: torch.Tensor) -> torch.Tensor:
        s = self.state
        nxt = self.next_state[s]  # (B, V)
        ok = self.distance[nxt] < UNREACHABLE
        held = self.held_by.sum(1)

        # a note event is judged on the instrument it plays on: the current one, or the one
        # that the character itself switches to (as in "@12-C4")
        melodic = self.used[:, : INSTRUMENTS - 1].sum(1) < self.max_melodic
        playable = self.used | melodic[:, None]  # no more instruments than training pieces
        playable[:, g.DRUMS] = True
        playable &= self.program_ok[None, :]  # and only the corpus's instruments
        playable &= (self.ticks < self.limit)[:, None]  # a note needs a tick to end in
        playable &= (held < self.max_voices)[:, None]  # no more voices than training pieces
        free_now, release_now = self._key_sets(self.current)
        free_now &= playable.gather(1, self.current[:, None])
        can_switch = self.switch_target[s] >= 0
        if bool(can_switch.any()):  # most steps no sample is inside "@12…": one instrument
            target = torch.where(can_switch, self.switch_target[s], self.current)
            free_then, release_then = self._key_sets(target)
            free_then &= playable.gather(1, target[:, None])
        else:
            free_then, release_then = free_now, release_now
        switches = self.instrument[s] >= 0
        ok &= ~switches | (self.instrument[s] != self.current[:, None])
        sets = self.note_set[s].clamp(min=0)
        free = torch.where(switches, free_then.gather(1, sets), free_now.gather(1, sets))
        releasable = torch.where(
            switches, release_then.gather(1, sets), release_now.gather(1, sets)
        )
        kind = self.note_kind[s]
        ok &= (kind == 0) | ((kind == ON) & free) | ((kind == OFF) & releasable)
        iset = self.instrument_set[s]
        if bool((iset >= 0).any()):  # "@4…": some instrument it can become must have a use
            useful = playable | (self.held_by > self.fresh_by)  # (B, I)
            useful[self.rows, self.current] = False  # "@0" on program 0 says nothing
            wanted = self.instrument_sets[iset.clamp(min=0)]  # (B, V, I)
            ok &= (iset < 0) | (wanted & useful[:, None, :]).any(-1)
        ok &= ~self.wait[s] | (self.ticks < self.limit)[:, None]
        # a piece that opened with a pickup bar states its own meter where bar 2 starts
        settle = self.in_pickup & self.later_bar[s]
        ok &= ~settle[:, None] | self.opens_meter[s] | self.end[s]

        # closing: with the deadline in sight, or where the model wished to end while notes
        # sounded, only release what sounds (switching instrument or waiting a tick where that
        # is needed) and end the piece. Far from the deadline (most steps) a bound on what
        # closing can need skips the per-sample sums
        has_notes = self.notes >= self.min_notes
        due = torch.zeros_like(may_end)
        closing = self.closing & has_notes  # a piece without its notes plays on
        bound = self.longest_finish + 3 * int(held.max()) + 5 * INSTRUMENTS + 1 + CLOSING_MARGIN
        if int(steps_left.min()) <= bound or bool(closing.any()):
            fresh = self.fresh_by.sum(1) > 0
            instruments = (self.held_by > 0).sum(1)
            # a release is "-C4", a switch "@123-", a tick's wait "." and maybe a bar's "\n"
            need = self.distance[s] + 3 * held + 5 * instruments + 2 * fresh.long()
            due = steps_left <= need + CLOSING_MARGIN  # the hard limit wins over the rest
            closing |= due
        may_stop = (held == 0) & ((may_end & has_notes) | due)
        ok &= ~self.end[s] | may_stop[:, None]
        if bool(closing.any()):
            narrowed = ok & self._closing_moves(s, nxt, fresh)
            use = closing & narrowed.any(1)  # a sample that cannot close keeps its moves
            ok = torch.where(use[:, None], narrowed, ok)
        pointless = self.after_switch[s]  # "@12." where "@12+C4" could be: a note it is
        ok &= ~pointless | ~(ok & (kind != 0)).any(1, keepdim=True)
        ok |= self.is_done[s][:, None]
        if not bool(ok.any(1).all()):  # cannot happen by construction; never hand NaNs on
            ok[~ok.any(1)] = True
        return ok

    def ending(self) -> torch.Tensor:
        """The separator's first newline, where the piece has its notes (a sample still short
        of them must go on, whatever the model says)."""
        return self.end[self.state] & (self.notes >= self.min_notes)[:, None]

    def close(self, which: torch.Tensor) -> None:
        self.closing |= which

    def _closing_moves(self, s, nxt, fresh) -> torch.Tensor:
        releasable_by = self.held_by > self.fresh_by  # (B, I)
        current_has = releasable_by.gather(1, self.current[:, None])[:, 0]
        elsewhere = releasable_by.clone()
        elsewhere[self.rows, self.current] = False
        switch_useful = ~current_has & elsewhere.any(1)
        switching = self.is_switch[s] & (self.instrument[s] < 0)  # "@" not right after "@12"
        moves = ~self.new_event[s] | (switching & switch_useful[:, None])
        progress = self.distance[nxt] < self.distance[s][:, None]
        # a tick passes only for notes that started in this one, once all else is released
        must_wait = fresh & ~releasable_by.any(1)
        moves &= ~self.wait[s] | must_wait[:, None] | progress
        iset = self.instrument_set[s]
        wanted = self.instrument_sets[iset.clamp(min=0)]  # (B, V, I)
        reaches = (wanted & releasable_by[:, None, :]).any(-1)
        return moves & ((iset < 0) | reaches | ~switch_useful[:, None])

    def advance(self, ids: torch.Tensor) -> None:
        s, rows = self.state, self.rows
        live = ~self.is_done[s]
        switch = self.instrument[s, ids]
        self.current = torch.where((switch >= 0) & live, switch, self.current)
        note = self.note[s, ids]
        sounds = live & (note >= 0)
        if bool(sounds.any()):  # indexed writes are the costly part: only when a note moves
            kind = self.note_kind[s, ids]
            on, off = sounds & (kind == ON), sounds & (kind == OFF)
            player = rows * INSTRUMENTS + self.current  # flat indices: one gather, one put
            key = player * PITCHES + note.clamp(min=0)
            sounding, onset = self.sounding.view(-1), self.onset_tick.view(-1)
            sounding[key] = (sounding[key] | on) & ~off
            onset[key] = torch.where(on, self.ticks.int(), onset[key])
            used = self.used.view(-1)
            used[player] = used[player] | on
            self.held_by.view(-1)[player] += on.long() - off.long()
            self.fresh_by.view(-1)[player] += on.long()
            self.notes += on.long()
            melodic_on = on & (self.current != g.DRUMS)
            pitch = note.clamp(min=0)
            self.lowest = torch.where(melodic_on, torch.minimum(self.lowest, pitch), self.lowest)
            self.highest = torch.where(melodic_on, torch.maximum(self.highest, pitch), self.highest)
        self.in_pickup = (self.in_pickup | (self.pickup[s, ids] & live)) & ~self.settles[s, ids]
        wait = self.wait[s, ids] & live
        if bool(wait.any()):
            self.fresh_by[wait] = 0
        self.ticks += wait.long()
        self.state = torch.where(live, self.next_state[s, ids], s)

    def done(self) -> torch.Tensor:
        return self.is_done[self.state]


_TABLES = (
    "next_state",
    "instrument",
    "instrument_set",
    "note_kind",
    "note_set",
    "note",
    "wait",
    "end",
    "new_event",
    "is_switch",
    "after_switch",
    "pickup",
    "opens_meter",
    "settles",
    "later_bar",
    "switch_target",
    "note_sets",
    "instrument_sets",
    "is_done",
    "distance",
)


def _sizes(profile: CorpusProfile | None) -> tuple[int, int, int]:
    """Most melodic instruments and voices at once that typical training pieces have, and
    the notes a piece needs before it may end."""
    melodic, voices, notes = MELODIC_CHANNELS, PITCHES * INSTRUMENTS, MIN_NOTES
    if profile is not None:
        typical_melodic = profile.quantile(MELODIC, TYPICAL)
        typical_voices = profile.quantile(POLYPHONY, TYPICAL)
        if typical_melodic is not None:
            melodic = min(MELODIC_CHANNELS, max(1, math.ceil(typical_melodic)))
        if typical_voices is not None:
            voices = max(1, math.ceil(typical_voices))
    return melodic, voices, notes


def _membership(sets: dict[frozenset, int], size: int) -> torch.Tensor:
    table = torch.zeros(max(1, len(sets)), size, dtype=torch.bool)
    for members, i in sets.items():
        table[i, list(members)] = True
    return table
