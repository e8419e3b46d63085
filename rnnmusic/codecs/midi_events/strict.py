"""Grammar-constrained sampling for midi-events: only text that decodes with zero repairs.

Two layers. The *syntax* (strict_grammar.py: header first, events spelled right, numbers in
range, a bar line only after a wait, the blank-line separator last) is a finite state machine,
enumerated once over the model's vocabulary into tables. The *meaning* (a note-off only for a
sounding note that did not start this tick, a note-on only for a silent key, at most 15 melodic
instruments, nothing sounding when the piece ends, waits within the longest piece) needs to know
which keys sound: each sample carries (instrument × key) bitmaps as tensors, and every
transition names what it requires of them. A partial event (`-`, then `-C`) already requires
that some completion is allowed, so a sample never walks into a dead end.

Near the length limit a sample closes: no new notes, instruments or settings; it switches off
what sounds and writes the separator, so it is never cut off mid-piece.
"""

from __future__ import annotations

import math

import torch

from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.profile import MELODIC, PITCH_RANGE, POLYPHONY
from rnnmusic.codecs.midi_events.score import MELODIC_CHANNELS, max_ticks
from rnnmusic.codecs.midi_events.strict_grammar import (
    INSTRUMENTS,
    OFF,
    ON,
    PITCHES,
    MidiEventsSyntax,
    Settings,
)
from rnnmusic.constraints import UNREACHABLE, Constraint, distances_to_end, explore
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import TYPICAL, CorpusProfile

MIN_NOTES = 16  # a piece shorter than this is not a piece a listener keeps
CLOSING_MARGIN = 20  # slack before the end: a note event in progress ("@123v3+C4") and what it adds
NO_SET = -1


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
        self.later_bar = torch.tensor(
            [s.kind == "bar" and not s.first_bar for s in order] + [False]
        )
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
        self.current = torch.full(
            (batch,), alphabet.DEFAULT_PROGRAM, dtype=torch.long, device=device
        )
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
        within |= (instrument == alphabet.DRUMS)[:, None]
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
        playable[:, alphabet.DRUMS] = True
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
            melodic_on = on & (self.current != alphabet.DRUMS)
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
