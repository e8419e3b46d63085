"""Grammar-constrained sampling for tab: only text that decodes with zero repairs.

Two layers, as for midi-events. The *syntax* (strict_grammar.py: the header's tokens and
numbers, N cells per group, N marks after `:`, `.`, `|` and the newlines) is a finite state
machine, enumerated once over the model's vocabulary into tables. The *meaning* the decoder
checks needs memory per sample, kept as tensors: four bits per string (sounding; struck in
this group on a fret; struck dead; fretted in an earlier group), the number of groups in the
bar and the longest bar the header allows. Every move names one requirement on them, so a step
is a few gathers for the whole batch, with no Python per sample.

Near the length limit only characters after which the piece can still end in the characters
left are allowed: the shortest way to the end from each syntax state (the first bar's shortest
statable length included), plus the groups the current bar still needs before a time signature
can state its length. So no sample is ever cut off.
"""

from __future__ import annotations

import functools
import heapq
import math
from dataclasses import dataclass

import torch

from rnnmusic.codecs.tab.alphabet import FRET_CHARS
from rnnmusic.codecs.tab.model import GRIDS, MAX_STRINGS, STANDARD, parse_pitches
from rnnmusic.codecs.tab.profile import CHORD, PITCH_RANGE, STANDARD_TUNING
from rnnmusic.codecs.tab.strict_grammar import (
    ALWAYS_AVAILABLE,
    BAR_FULL,
    BAR_TAIL,
    DEAD_NOW,
    FORBIDDEN,
    FRET_NOW,
    FRETTED,
    FRETTED_BEFORE,
    IN_BAR,
    LEGATO_OK,
    NONE,
    ROOM,
    ROOM_SOUNDS,
    SOUNDING,
    SOUNDS,
    STRIDE,
    STRUCK,
    Settings,
    TabSyntax,
    shortest_bar,
    statable,
    string_of,
)
from rnnmusic.constraints import UNREACHABLE, Constraint, explore
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import TYPICAL, CorpusProfile, drawn_sizes

MIN_NOTES = 16  # a piece shorter than this is not one a guitarist keeps
NO_CAP = 1000  # a span no sample reaches


def _pitch_cap(profile: CorpusProfile | None, settings: Settings) -> tuple[list[int], int]:
    """Open-string pitches and the widest span a sample's fretted notes may take: 95% of the
    training tabs stay within it. Known only when the corpus uses one tuning."""
    if profile is None or settings.tunings is None or len(settings.tunings) != 1:
        return list(STANDARD), NO_CAP
    (tuning,) = settings.tunings
    open_pitches = STANDARD if tuning == STANDARD_TUNING else parse_pitches(tuning)
    span = profile.quantile(PITCH_RANGE, TYPICAL)
    if open_pitches is None or span is None:
        return list(STANDARD), NO_CAP
    return list(open_pitches), max(12, math.ceil(span))


def _met_table() -> torch.Tensor:
    """(64, kinds): is the requirement met, for every string bits | room << 4 | full << 5."""
    table = torch.zeros(64, FORBIDDEN + 1, dtype=torch.bool)
    for key in range(64):
        bits, room, full = key & 15, bool(key & 16), bool(key & 32)
        table[key, NONE] = True
        table[key, SOUNDS] = bool(bits & SOUNDING)
        table[key, FRETTED] = bool(bits & FRET_NOW)
        table[key, STRUCK] = bool(bits & (FRET_NOW | DEAD_NOW))
        table[key, LEGATO_OK] = bool(bits & FRET_NOW) and bool(bits & FRETTED_BEFORE)
        table[key, ROOM] = room
        table[key, ROOM_SOUNDS] = room and bool(bits & SOUNDING)
        table[key, BAR_FULL] = full
    return table


def _bar_tables() -> tuple[torch.Tensor, torch.Tensor]:
    """Per grid and groups in the bar: statable, and the groups still needed until it is."""
    full = torch.zeros(len(GRIDS) * STRIDE, dtype=torch.bool)
    extra = torch.zeros(len(GRIDS) * STRIDE, dtype=torch.long)
    for g, grid in enumerate(GRIDS):
        following = 0  # the nearest statable length at or above n (0: none)
        for n in range(STRIDE - 1, 0, -1):
            if statable(n, grid):
                following = n
                full[g * STRIDE + n] = True
            extra[g * STRIDE + n] = following - n if following else 0
    return full, extra


# -- compiled tables ------------------------------------------------------------------------


@dataclass
class Tables:
    next_state: torch.Tensor  # (S+1, V) the last row is the sink of forbidden moves
    need: torch.Tensor  # (S+1, V) requirement kind
    cell: torch.Tensor  # (S+1, V) string bits a cell writes, -1 for other characters
    group_end: torch.Tensor  # (S+1, V) bool
    bar_end: torch.Tensor  # (S+1, V) bool
    bar_max: torch.Tensor  # (S+1, V) longest bar set by a header token, -1 for none
    cost_next: torch.Tensor  # (S+1, V) fewest characters to the end after the move
    in_bar_next: torch.Tensor  # (S+1, V) 1 where the move lands inside a begun bar
    string_of: torch.Tensor  # (S+1,)
    bar_row: torch.Tensor  # (S+1,) offset of the state's grid in the bar tables
    group_width: torch.Tensor  # (S+1,) characters of a plain group: N cells and "."
    distance: torch.Tensor  # (S+1,)
    full: torch.Tensor  # bar tables, see _bar_tables
    extra: torch.Tensor
    met: torch.Tensor
    most_needed: int  # no sample ever needs more characters than this to finish


@functools.lru_cache(maxsize=8)
def compile_tables(vocab: tuple[str, ...], settings: Settings | None = None) -> Tables:
    syntax = TabSyntax(settings)
    order, rows = explore(syntax.start, list(vocab), syntax.transition, syntax.is_done)
    count, width = len(order), len(vocab)
    sink = count
    done = [syntax.is_done(s) for s in order]
    plain = _distances(rows, done, {})
    first_bars = {  # the first bar's state knows its grid: its shortest bar is its cost
        i: (s.strings + 1) * shortest_bar(s.grid) + BAR_TAIL
        for i, s in enumerate(order)
        if s.kind == "bar" and plain[i] < UNREACHABLE
    }
    distance = _distances(rows, done, first_bars)

    def full(value, dtype=torch.long):
        return torch.full((count + 1, width), value, dtype=dtype)

    next_state, need, cell, bar_max = full(sink), full(FORBIDDEN), full(-1), full(-1)
    group_end, bar_end = full(False, torch.bool), full(False, torch.bool)
    for s, row in enumerate(rows):
        if syntax.is_done(order[s]):  # a finished sample runs freely until the batch stops
            next_state[s], need[s] = s, NONE
            continue
        for c, move in enumerate(row):
            if move is None or distance[move[0]] >= UNREACHABLE:  # never walk into a dead end
                continue
            target, action = move
            next_state[s, c], need[s, c], cell[s, c] = target, action.need, action.cell
            group_end[s, c], bar_end[s, c] = action.group_end, action.bar_end
            bar_max[s, c] = action.bar_max
    dist = torch.tensor(distance + [UNREACHABLE], dtype=torch.long)
    in_bar = torch.tensor([s.kind in IN_BAR for s in order] + [False], dtype=torch.long)
    grids = [s.grid if s.kind not in ("start", "g", "done") else GRIDS[0] for s in order]
    strings = [s.strings if s.kind in IN_BAR + ("bar", "barend", "nl") else 0 for s in order]
    bar_full, extra = _bar_tables()
    finite = [d for d in distance if d < UNREACHABLE]
    return Tables(
        next_state=next_state,
        need=need,
        cell=cell,
        group_end=group_end,
        bar_end=bar_end,
        bar_max=bar_max,
        cost_next=dist[next_state],
        in_bar_next=in_bar[next_state],
        string_of=torch.tensor([string_of(s) for s in order] + [0]),
        bar_row=torch.tensor([GRIDS.index(g) * STRIDE for g in grids] + [0]),
        group_width=torch.tensor([n + 1 for n in strings] + [0]),
        distance=dist,
        full=bar_full,
        extra=extra,
        met=_met_table(),
        most_needed=max(finite, default=0) + (MAX_STRINGS + 1) * int(extra.max()),
    )


def _distances(rows: list[list], done: list[bool], fixed: dict[int, int]) -> list[int]:
    """Fewest characters from each state to the end, over moves that are always available
    (Dijkstra on reversed edges). `fixed` states have a known cost of their own."""
    reverse: list[list[int]] = [[] for _ in rows]
    for source, row in enumerate(rows):
        for move in row:
            if move is not None and move[1].need in ALWAYS_AVAILABLE:
                reverse[move[0]].append(source)
    distance = [UNREACHABLE] * len(rows)
    queue = [(0, i) for i, d in enumerate(done) if d] + [(c, i) for i, c in fixed.items()]
    heapq.heapify(queue)
    while queue:
        cost, state = heapq.heappop(queue)
        if cost >= distance[state]:
            continue
        distance[state] = cost
        for source in reverse[state]:
            if source not in fixed and cost + 1 < distance[source]:
                heapq.heappush(queue, (cost + 1, source))
    return distance


CLOSE_LOOKAHEAD = 64  # groups ahead searched for a place where a bar may end


def _not_ending_yet(ok: torch.Tensor, cost_next: torch.Tensor, may_end: torch.Tensor):
    """Where a piece may not end yet, its last character is left out, unless nothing else is
    left (the deadline wins)."""
    going_on = ok & (cost_next > 0)
    return torch.where(may_end[:, None] | ~going_on.any(1, keepdim=True), ok, going_on)


# -- the Constraint -------------------------------------------------------------------------


class TabConstraint(Constraint):
    """The syntax tables plus per-sample string bits and bar counts, all as tensors."""

    def __init__(self, vocab: list[str], profile: CorpusProfile | None = None):
        self.vocab_size = len(vocab)
        settings = Settings.from_profile(profile)
        self.tables = compile_tables(tuple(vocab), settings)
        open_pitches, self.max_span = _pitch_cap(profile, settings)
        self.profile = profile
        chord = profile.quantile(CHORD, TYPICAL) if profile is not None else None
        # no more strings struck at once than 95% of the training tabs strike
        self.max_chord = MAX_STRINGS + 1 if chord is None else max(1, math.ceil(chord))
        open_pitches += [0] * (MAX_STRINGS + 1 - len(open_pitches))
        self.open_pitch = torch.tensor(open_pitches)
        self.fret_of = torch.tensor(
            [FRET_CHARS.index(ch) if ch in FRET_CHARS else 0 for ch in vocab]
        )
        self.top_fret = int(self.fret_of.max())

    def reset(self, batch: int, device: torch.device) -> None:
        t = self.tables
        if int(t.distance[0]) >= UNREACHABLE:
            raise RnnMusicError(
                "this model's vocabulary cannot spell a whole tab piece, so --strict cannot "
                "guarantee valid samples; sample with --no-strict"
            )
        for name, value in vars(t).items():
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
        self.flat = {
            name: getattr(self, name).reshape(-1)
            for name in ("next_state", "cell", "group_end", "bar_end", "bar_max")
        }
        self.state = torch.zeros(batch, dtype=torch.long, device=device)
        self.bits = torch.zeros(batch, MAX_STRINGS, dtype=torch.long, device=device)
        self.count = torch.zeros(batch, dtype=torch.long, device=device)  # groups in the bar
        self.longest = torch.ones(batch, dtype=torch.long, device=device)  # the meter's bar
        self.target = torch.ones(batch, dtype=torch.long, device=device)  # this bar's length
        self.complement = torch.zeros(batch, dtype=torch.bool, device=device)
        self.bars = torch.zeros(batch, dtype=torch.long, device=device)
        self.notes = torch.zeros(batch, dtype=torch.long, device=device)  # fretted or open
        self.in_group = torch.zeros(batch, dtype=torch.long, device=device)  # strings struck
        # the fretted notes' span so far: no wider than 95% of the training tabs'
        self.lowest = torch.full((batch,), NO_CAP, dtype=torch.long, device=device)
        self.highest = torch.full((batch,), -NO_CAP, dtype=torch.long, device=device)
        self.span = torch.full((batch,), self.max_span, dtype=torch.long, device=device)
        self.open_pitch = self.open_pitch.to(device)
        self.fret_of = self.fret_of.to(device)
        self.primed = False

    def shortest_piece(self) -> int:
        return int(self.tables.distance[0])

    def draw(self, generator: torch.Generator) -> None:
        """Each sample's span: drawn from the training tabs' spans (an octave at least)."""
        if self.max_span < NO_CAP:
            batch, device = self.span.numel(), self.span.device
            drawn = drawn_sizes(self.profile, PITCH_RANGE, 12, generator, batch, device)
            if drawn is not None:
                self.span = torch.minimum(drawn, self.span)

    def feed(self, text: str, vocab: list[str]) -> None:
        super().feed(text, vocab)
        self.primed = True  # the first step checks that the prime's piece can still end

    def allowed(self, steps_left: torch.Tensor, may_end: torch.Tensor) -> torch.Tensor:
        s = self.state
        string_bits = self.bits.gather(1, self.string_of[s][:, None])[:, 0]
        # a bar fills its meter; a shorter one is a pickup (the first bar), a section's or the
        # piece's end, and then the next bar is the rest of it, as in "…E2:| B |E>GE …"
        room = self.count < self.target
        full = self._may_close_bar(self.bar_row[s], self.count)
        key = string_bits | room.long() << 4 | full.long() << 5
        ok = self.met[key].gather(1, self.need[s])  # (B, V)
        within = None
        if self.max_span < NO_CAP:
            within = self._within_span(s, self.open_pitch[self.string_of[s]])
            ok = torch.where((ok & within).any(1, keepdim=True), ok & within, ok)
        if self.max_chord <= MAX_STRINGS:
            strikes = (self.cell[s] >= 0) & (self.cell[s] & (FRET_NOW | DEAD_NOW)).bool()
            fewer = ~strikes | (self.in_group < self.max_chord)[:, None]
            ok = torch.where((ok & fewer).any(1, keepdim=True), ok & fewer, ok)
        may_end = may_end & (self.notes >= MIN_NOTES)  # a piece is not over before its notes
        owed = (self.target - self.count - 1).clamp(min=0)  # groups that fill the bar
        unowed = ok
        ok = self._strike_where_notes_are_owed(s, ok, steps_left, owed, within)
        bound = self.tables.most_needed + (MAX_STRINGS + 1) * int(owed.max())
        if int(steps_left.min()) > bound and not self.primed:
            return _not_ending_yet(ok, self.cost_next[s], may_end)
        # closing: after the move, the piece (and the bar it is in, to where it may close)
        # must still fit
        pending = self.group_width[s] * self._groups_to_close(self.bar_row[s], owed)
        cost = self.cost_next[s] + self.in_bar_next[s] * pending[:, None]
        fits = _not_ending_yet(ok & (cost < steps_left[:, None]), self.cost_next[s], may_end)
        can_end = fits.any(1, keepdim=True)
        if not bool(can_end.all()):  # the notes owed never stand in the way of ending in time
            free = _not_ending_yet(
                unowed & (cost < steps_left[:, None]), self.cost_next[s], may_end
            )
            fits = torch.where(can_end, fits, free)
            ok = torch.where(can_end, ok, unowed)
            can_end = fits.any(1, keepdim=True)
        if self.primed:
            self.primed = False
            if not bool(can_end.all()):
                raise RnnMusicError(
                    f"with --strict the piece the prime begins cannot end within --length "
                    f"{int(steps_left.max())} characters; raise --length or shorten the prime"
                )
        return torch.where(can_end, fits, ok)

    def _strike_where_notes_are_owed(self, s, ok, steps_left, bar_owed, within) -> torch.Tensor:
        """A piece short of its 16 notes, with little room left for them, sounds a note in each
        group: a group that struck nothing strikes a fret at its last string that can still
        sound a pitch inside the piece's span. (The tiny tab model otherwise wrote bars of rests
        until its length ran out: 3 notes in 40 groups; forced onto the top string, below a low
        melody, the shipped model struck dead notes, clicks instead of notes: 15 of 100 samples
        ended with fewer than 16 pitched notes.) Until then no bar after the first closes short
        (after one, the piece may end)."""
        owed = (MIN_NOTES - self.notes).clamp(min=0)
        if not bool((owed > 0).any()):
            return ok
        # no bar after the first closes short while notes are owed (a short bar may end the
        # piece): what ending takes at the least is the way to the end and the groups the bar
        # needs, all of them in such a bar (a 4/1 bar at grid 48 is 192 groups)
        cut = (owed > 0) & (self.bars > 0) & (self.count < self.target)
        to_close = torch.where(cut, bar_owed, self._groups_to_close(self.bar_row[s], bar_owed))
        closing = self.distance[s] + self.group_width[s] * to_close
        frets = (self.cell[s] >= 0) & (self.cell[s] & FRET_NOW).bool()
        if within is not None:  # `allowed`'s span mask for this step
            frets &= within
        width = self.group_width[s]
        at_last = (self.string_of[s] >= self._last_sounding_string(width - 2)) & frets.any(1)
        short = steps_left <= closing + 2 * owed * width
        must = at_last & (self.in_group == 0) & short & (owed > 0)
        keep = ok & (~must[:, None] | frets)
        keep &= ~(self.bar_end[s] & cut[:, None])
        return torch.where(keep.any(1, keepdim=True), keep, ok)

    def _last_sounding_string(self, last: torch.Tensor) -> torch.Tensor:
        """Per sample: the highest string, at most `last`, with a fret inside the span the
        piece may still take (`last` where none has)."""
        strings = torch.arange(self.open_pitch.numel(), device=last.device)
        low, high = self._span_window()
        reach = (self.open_pitch[None, :] + self.top_fret >= low[:, None]) & (
            self.open_pitch[None, :] <= high[:, None]
        )
        reach &= strings[None, :] <= last[:, None]
        found = torch.where(reach, strings[None, :], -1).amax(1)
        return torch.where(found >= 0, found, last)

    def _within_span(self, s: torch.Tensor, open_pitch: torch.Tensor) -> torch.Tensor:
        """(B, V): the move frets no note outside the span the piece may still take."""
        frets = (self.cell[s] >= 0) & (self.cell[s] & FRET_NOW).bool()
        pitch = open_pitch[:, None] + self.fret_of[None, :]
        low, high = self._span_window()
        return ~frets | ((pitch >= low[:, None]) & (pitch <= high[:, None]))

    def _span_window(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample: the lowest and highest pitch a fretted note may still take, so the
        piece's fretted notes stay within its span."""
        return self.highest - self.span, self.lowest + self.span

    def _may_close_bar(self, row: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        """A bar of `count` groups may end: it fills its meter, or it is shorter and a time
        signature states it — the first bar (a pickup), or a section's end whose rest a
        statable next bar makes up (a bar that makes up another must be exact)."""

        def per_sample(values: torch.Tensor) -> torch.Tensor:  # (B,) → count's shape
            return values.view(-1, *[1] * (count.dim() - 1))

        top = self.full.numel() - 1
        target = per_sample(self.target)
        statable_now = self.full[(row + count).clamp(max=top)]
        rest = (row + per_sample(self.longest) - count).clamp(min=0, max=top)
        short = statable_now & (count < target) & ~per_sample(self.complement)
        short &= per_sample(self.bars == 0) | self.full[rest]
        return (count == target) | short

    def _groups_to_close(self, row: torch.Tensor, owed: torch.Tensor) -> torch.Tensor:
        """Groups the bar still needs, after the next one, before it may end (at most `owed`,
        which fills it)."""
        ahead = torch.arange(1, CLOSE_LOOKAHEAD + 1, device=row.device)
        counts = self.count[:, None] + ahead[None, :]  # (B, K)
        valid = self._may_close_bar(row[:, None].expand_as(counts), counts.clamp(min=0))
        first = torch.where(valid.any(1), valid.float().argmax(1), owed)
        return torch.minimum(first, owed)

    def advance(self, ids: torch.Tensor) -> None:
        move = self.state * self.vocab_size + ids
        k = self.string_of[self.state][:, None]
        cell = self.flat["cell"][move][:, None]
        struck = (cell[:, 0] >= 0) & (cell[:, 0] & (FRET_NOW | DEAD_NOW)).bool()
        fretted_now = (cell[:, 0] >= 0) & (cell[:, 0] & FRET_NOW).bool()
        self.notes += fretted_now.long()  # a dead note is a click, not one of the notes owed
        self.in_group += struck.long()
        pitch = self.open_pitch[k[:, 0]] + self.fret_of[ids]
        self.lowest = torch.where(fretted_now, torch.minimum(self.lowest, pitch), self.lowest)
        self.highest = torch.where(fretted_now, torch.maximum(self.highest, pitch), self.highest)
        old = self.bits.gather(1, k)
        self.bits.scatter_(1, k, torch.where(cell >= 0, (old & FRETTED_BEFORE) | cell, old))
        end = self.flat["group_end"][move]
        self.in_group = torch.where(end, 0, self.in_group)
        fretted = (self.bits & FRET_NOW).bool() & end[:, None]
        self.bits |= fretted.long() * FRETTED_BEFORE
        bar_end = self.flat["bar_end"][move]
        opens = bar_end & ~self.complement & (self.count < self.target) & (self.bars > 0)
        self.bars += bar_end.long()
        self.target = torch.where(
            bar_end, torch.where(opens, self.longest - self.count, self.longest), self.target
        )
        self.complement = torch.where(bar_end, opens, self.complement)
        self.count = (self.count + end.long()) * (~bar_end).long()
        header = self.flat["bar_max"][move]
        self.longest = torch.where(header >= 0, header, self.longest)
        self.target = torch.where(header >= 0, header, self.target)
        self.state = self.flat["next_state"][move]

    def done(self) -> torch.Tensor:
        return self.distance[self.state] == 0
