"""Grammar-constrained sampling for tab: only text that decodes with zero repairs.

Two layers, as for midi-events. The *syntax* (strict_syntax.py: the header's tokens and
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
from dataclasses import dataclass

import torch

from rnnmusic.codecs.tab.model import GRIDS, MAX_STRINGS
from rnnmusic.codecs.tab.strict_syntax import (
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
from rnnmusic.profile import CorpusProfile


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
        i: (s[2] + 1) * shortest_bar(s[1]) + BAR_TAIL
        for i, s in enumerate(order)
        if s[0] == "bar" and plain[i] < UNREACHABLE
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
    in_bar = torch.tensor([s[0] in IN_BAR for s in order] + [False], dtype=torch.long)
    grids = [s[1] if s[0] not in ("start", "g", "done") else GRIDS[0] for s in order]
    strings = [s[2] if s[0] in IN_BAR + ("bar", "barend", "nl") else 0 for s in order]
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


# -- the Constraint -------------------------------------------------------------------------


class TabConstraint(Constraint):
    """The syntax tables plus per-sample string bits and bar counts, all as tensors."""

    def __init__(self, vocab: list[str], profile: CorpusProfile | None = None):
        self.vocab_size = len(vocab)
        self.tables = compile_tables(tuple(vocab), Settings.from_profile(profile))

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
        self.primed = False

    def shortest_piece(self) -> int:
        return int(self.tables.distance[0])

    def feed(self, text: str, vocab: list[str]) -> None:
        super().feed(text, vocab)
        self.primed = True  # the first step checks that the prime's piece can still end

    def allowed(self, steps_left: torch.Tensor, may_end: torch.Tensor) -> torch.Tensor:
        s = self.state
        string_bits = self.bits.gather(1, self.string_of[s][:, None])[:, 0]
        at = self.bar_row[s] + self.count
        # a bar fills its meter; a shorter one is a pickup (the first bar), a section's or the
        # piece's end, and then the next bar is the rest of it, as in "…E2:| B |E>GE …"
        room = self.count < self.target
        short = self.full[at] & (self.count < self.target) & ~self.complement
        full = (self.count == self.target) | short
        key = string_bits | room.long() << 4 | full.long() << 5
        ok = self.met[key].gather(1, self.need[s])  # (B, V)
        going_on = ok & (self.cost_next[s] > 0)  # not the piece's last character
        ok = torch.where(may_end[:, None] | ~going_on.any(1, keepdim=True), ok, going_on)
        owed = torch.where(self.complement, (self.target - self.count - 1).clamp(min=0), 0)
        bound = self.tables.most_needed + (MAX_STRINGS + 1) * int(owed.max())
        if int(steps_left.min()) > bound and not self.primed:
            return ok
        # closing: after the move, the piece (and the bar it is in) must still fit
        pending = self.group_width[s] * torch.where(self.complement, owed, self.extra[at + 1])
        cost = self.cost_next[s] + self.in_bar_next[s] * pending[:, None]
        fits = ok & (cost < steps_left[:, None])
        can_end = fits.any(1, keepdim=True)
        if self.primed:
            self.primed = False
            if not bool(can_end.all()):
                raise RnnMusicError(
                    f"with --strict the piece the prime begins cannot end within --length "
                    f"{int(steps_left.max())} characters; raise --length or shorten the prime"
                )
        return torch.where(can_end, fits, ok)

    def advance(self, ids: torch.Tensor) -> None:
        move = self.state * self.vocab_size + ids
        k = self.string_of[self.state][:, None]
        cell = self.flat["cell"][move][:, None]
        old = self.bits.gather(1, k)
        self.bits.scatter_(1, k, torch.where(cell >= 0, (old & FRETTED_BEFORE) | cell, old))
        end = self.flat["group_end"][move]
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
