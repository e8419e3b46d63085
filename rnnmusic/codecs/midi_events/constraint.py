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

from dataclasses import dataclass

import torch

from rnnmusic.codecs.midi_events import grammar as g
from rnnmusic.codecs.midi_events.score import MELODIC_CHANNELS, max_ticks
from rnnmusic.constraints import UNREACHABLE, Constraint, distances_to_end, explore
from rnnmusic.errors import RnnMusicError

PITCHES = 128
INSTRUMENTS = 129  # programs 0-127 and the drums
CLOSING_MARGIN = 10  # characters of slack before the end: a note-on in progress, a number …
NO_SET = -1
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


def _number_viable(value: int, digits: int, low: int, high: int, most: int) -> bool:
    """Some completion of a number written so far (≤ `most` digits) lies in [low, high]."""
    lo, hi = value, value
    for _ in range(most - digits + 1):
        if hi >= low and lo <= high:
            return True
        lo, hi = lo * 10, hi * 10 + 9
    return False


class MidiEventsSyntax:
    """The text as a state machine; states are small tuples, actions describe meaning."""

    start = ("tempo",)

    def __init__(self, velocity_bins: int):
        self.bins = velocity_bins if velocity_bins > 1 else 0

    def is_done(self, state) -> bool:
        return state[0] == "done"

    def step(self, state, ch: str):
        result = self.transition(state, ch)
        return None if result is None else result[0]

    def transition(self, state, ch: str) -> tuple[tuple, Action] | None:
        kind = state[0]
        if kind == "tempo":  # header: T
            return (("tempo#", 0, 0, True), Action()) if ch == g.TEMPO else None
        if kind == "tempo#":
            return self._number(state, ch, g.MIN_TEMPO, g.MAX_TEMPO, 3)
        if kind == "meter":
            return (("meter#", 0, 0, True), Action()) if ch == g.METER else None
        if kind == "meter#":
            return self._meter(state, ch)
        if kind == "meter/":
            return self._denominator(state, ch)
        if kind in ("body", "bar"):
            return self._body(state, ch)
        if kind == "end":  # after a newline that can only be the separator's first half
            return (("done",), Action(end=True)) if ch == g.BAR_LINE else None
        if kind in ("on", "off"):
            return self._pitch_class(state, ch)
        if kind in ("on.", "off."):
            return self._octave(state, ch)
        if kind == "@":
            if ch == g.DRUM_KIT:
                drums = frozenset([g.DRUMS])
                return (("body", False), Action(instrument=g.DRUMS, instrument_set=drums))
            if ch in g.DIGITS:
                return self._program_digit(0, 0, ch)
            return None
        if kind == "@#":
            return self._program(state, ch)
        if kind == "v":
            value = g.VELOCITY_DIGITS.find(ch)
            return (("body", False), Action()) if 0 <= value < self.bins else None
        return None

    # -- pieces of the machine ------------------------------------------------------------------

    def _body(self, state, ch: str):
        """Between events. state = ("body", after_wait) or ("bar", first_bar_of_piece)."""
        after_wait = state[0] == "bar" or state[1]
        if ch == g.WAIT:
            return ("body", True), Action(wait=True)
        if ch == g.BAR_LINE:
            if state[0] == "bar":  # "\n\n": the piece ends here (never right after the header)
                return None if state[1] else (("done",), Action(end=True))
            if after_wait:
                return ("bar", False), Action()
            return ("end",), Action(end=True)  # the separator's first newline
        if ch == g.NOTE_ON:
            return ("on",), Action(note_kind=ON, note_set=frozenset(range(PITCHES)), new_event=True)
        if ch == g.NOTE_OFF:
            return ("off",), Action(note_kind=OFF, note_set=frozenset(range(PITCHES)))
        if ch == g.INSTRUMENT:
            return ("@",), Action(new_event=True, is_switch=True)
        if ch == g.VELOCITY and self.bins:
            return ("v",), Action(new_event=True)
        if ch == g.TEMPO:
            return ("tempo#", 0, 0, False), Action(new_event=True)
        if ch == g.METER:
            return ("meter#", 0, 0, False), Action(new_event=True)
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
        return ("body", False), Action(note_kind=kind, note_set=frozenset([pitch]), note=pitch)

    def _number(self, state, ch: str, low: int, high: int, most: int):
        """Tempo digits; in the header the number ends at the gap, in the body at any event."""
        _, value, digits, header = state
        if ch in g.DIGITS:
            new = (value * 10 + int(ch), digits + 1)
            if digits < most and _number_viable(*new, low, high, most):
                return ("tempo#", *new, header), Action()
            return None
        if digits == 0 or not low <= value <= high:
            return None
        if header:
            return (("meter",), Action()) if ch == g.HEADER_GAP else None
        return self._body(("body", False), ch)

    def _meter(self, state, ch: str):
        _, value, digits, header = state
        if ch in g.DIGITS:
            new = (value * 10 + int(ch), digits + 1)
            if digits < 2 and _number_viable(*new, 1, g.MAX_METER_NUMERATOR, 2):
                return ("meter#", *new, header), Action()
            return None
        if ch == "/" and digits and 1 <= value <= g.MAX_METER_NUMERATOR:
            return ("meter/", 0, 0, header), Action()
        return None

    def _denominator(self, state, ch: str):
        _, value, digits, header = state
        if ch in g.DIGITS:
            new = (value * 10 + int(ch), digits + 1)
            if digits < 2 and _in_set_viable(*new, g.METER_DENOMINATORS, 2):
                return ("meter/", *new, header), Action()
            return None
        if not digits or value not in g.METER_DENOMINATORS:
            return None
        if header:
            return (("bar", True), Action()) if ch == g.BAR_LINE else None
        return self._body(("body", False), ch)

    def _program_digit(self, value: int, digits: int, ch: str):
        new = (value * 10 + int(ch), digits + 1)
        reachable = frozenset(_completions(*new))
        if not reachable:
            return None
        return ("@#", *new), Action(instrument_set=reachable)

    def _program(self, state, ch: str):
        _, value, digits = state
        if ch in g.DIGITS:
            return self._program_digit(value, digits, ch) if digits < 3 else None
        if value > 127:
            return None
        follow = self._body(("body", False), ch)
        if follow is None:
            return None
        nxt, action = follow
        merged = Action(
            instrument=value,
            instrument_set=frozenset([value]),
            note_kind=action.note_kind,
            note_set=action.note_set,
            wait=action.wait,
            end=action.end,
            new_event=action.new_event,
            is_switch=action.is_switch,
        )
        return nxt, merged


def _in_set_viable(value: int, digits: int, allowed, most: int) -> bool:
    """Some completion of a number written so far (≤ `most` digits) is one of `allowed`."""
    if value in allowed:
        return True
    return digits < most and any(
        _in_set_viable(value * 10 + k, digits + 1, allowed, most) for k in range(10)
    )


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

    def __init__(self, vocab: list[str], ticks_per_beat: int, velocity_bins: int):
        self.syntax = MidiEventsSyntax(velocity_bins)
        self.limit = max_ticks(ticks_per_beat)
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
        # the instrument a state's switching characters switch to (one per state, or -1)
        self.switch_target = self.instrument.max(dim=1).values
        self.note_sets = _membership(note_sets, PITCHES)
        self.instrument_sets = _membership(instrument_sets, INSTRUMENTS)
        done = [syntax.is_done(s) for s in order]
        self.is_done = torch.tensor(done + [False])
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
        if int(self.distance[0]) >= UNREACHABLE:
            raise RnnMusicError(
                "this model's vocabulary cannot spell a whole midi-events piece, so --strict "
                "cannot guarantee valid samples; sample with --no-strict"
            )

    def shortest_piece(self) -> int:
        return int(self.distance[0])

    def _key_sets(self, instrument: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample and key set: is some key of the set silent / releasable on `instrument`?"""
        sounding = self.sounding[self.rows, instrument]  # (B, P)
        started = self.onset_tick[self.rows, instrument] == self.ticks[:, None]
        releasable = sounding & ~started
        free = (sounding.float() @ self.set_columns) < self.set_sizes  # (B, K)
        return free, (releasable.float() @ self.set_columns) > 0

    def allowed(self, steps_left: int) -> torch.Tensor:
        s = self.state
        nxt = self.next_state[s]  # (B, V)
        ok = self.distance[nxt] < UNREACHABLE

        # a note event is judged on the instrument it plays on: the current one, or the one
        # that the character itself switches to (as in "@12-C4")
        melodic = self.used[:, : INSTRUMENTS - 1].sum(1) < MELODIC_CHANNELS
        playable = self.used | melodic[:, None]  # the decoder's 15-melodic-instruments rule
        playable[:, g.DRUMS] = True
        playable &= (self.ticks < self.limit)[:, None]  # a note needs a tick to end in
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
        sets = self.note_set[s].clamp(min=0)
        free = torch.where(switches, free_then.gather(1, sets), free_now.gather(1, sets))
        releasable = torch.where(
            switches, release_then.gather(1, sets), release_now.gather(1, sets)
        )
        kind = self.note_kind[s]
        ok &= (kind == 0) | ((kind == ON) & free) | ((kind == OFF) & releasable)

        held = self.held_by.sum(1)
        ok &= ~self.end[s] | (held == 0)[:, None]
        ok &= ~self.wait[s] | (self.ticks < self.limit)[:, None]

        # closing: with the end in sight, only release what sounds (switching instrument or
        # waiting a tick where that is needed) and end the piece. Far from the end (most steps)
        # a bound on what closing can need skips the per-sample sums
        bound = self.longest_finish + 3 * int(held.max()) + 5 * INSTRUMENTS + 1 + CLOSING_MARGIN
        if steps_left <= bound:
            fresh = self.fresh_by.sum(1) > 0
            instruments = (self.held_by > 0).sum(1)
            need = self.distance[s] + 3 * held + 5 * instruments + fresh.long()
            closing = steps_left <= need + CLOSING_MARGIN
            if bool(closing.any()):
                narrowed = ok & self._closing_moves(s, nxt, fresh)
                use = closing & narrowed.any(1)  # a sample that cannot close keeps its moves
                ok = torch.where(use[:, None], narrowed, ok)
        ok |= self.is_done[s][:, None]
        if not bool(ok.any(1).all()):  # cannot happen by construction; never hand NaNs on
            ok[~ok.any(1)] = True
        return ok

    def _closing_moves(self, s, nxt, fresh) -> torch.Tensor:
        releasable_by = self.held_by > self.fresh_by  # (B, I)
        current_has = releasable_by.gather(1, self.current[:, None])[:, 0]
        elsewhere = releasable_by.clone()
        elsewhere[self.rows, self.current] = False
        switch_useful = ~current_has & elsewhere.any(1)
        switching = self.is_switch[s] & (self.instrument[s] < 0)  # "@" not right after "@12"
        moves = ~self.new_event[s] | (switching & switch_useful[:, None])
        progress = self.distance[nxt] < self.distance[s][:, None]
        moves &= ~self.wait[s] | fresh[:, None] | progress
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
    "switch_target",
    "note_sets",
    "instrument_sets",
    "is_done",
    "distance",
)


def _membership(sets: dict[frozenset, int], size: int) -> torch.Tensor:
    table = torch.zeros(max(1, len(sets)), size, dtype=torch.bool)
    for members, i in sets.items():
        table[i, list(members)] = True
    return table
