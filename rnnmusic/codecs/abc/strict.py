"""Strict sampling for ABC: the grammar's state machine (strict_grammar.py) plus bars that fill the
meter.

A tune whose bars hold 5/8, 7/8 and 6/8 in 6/8 is valid ABC and not a jig. The grammar cannot
count time without multiplying its states by every position in the bar, so each sample carries
its position in the bar as a tensor, and every move says what it does to it:

- a note, rest or chord that ends adds its length (ticks of 1/48 of the unit length `L:`; a
  note in a `(3` tuplet two thirds of it; a broken rhythm `A>B` moves time between its two
  notes, which no bar line can separate, so each adds its written length);
- a note or rest begun or lengthened must still fit: the shortest length it can still get;
- a `|` (also inside a tie, `A2-|A2`) needs the bar full, except the first bar (a pickup) and
  the first bar after a section line (`|:`, `:|`, `||`, `|]`), whose pickup a section's last
  bar makes up: a bar closed by `:|` or `|]` may be short;
- the `L:` line sets the bar's length from the meter (`M:none`: bars are free).

Each sample also carries the lowest and highest note it has written (diatonic steps: letter
and octave marks) and the note it is spelling: a note letter or octave mark is allowed only
where the note can still end within the span 95% of training tunes keep to, so a tune does not
wander over three octaves where the tunes it learned from span one and a half.

Everything else — which characters spell a tune that decodes unchanged and that music21 and
abc2midi read — is the grammar's, compiled into tables once per vocabulary as for every
codec.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from fractions import Fraction

import torch

from rnnmusic.codecs.abc.profile import STEP_RANGE, step
from rnnmusic.codecs.abc.strict_grammar import (
    _LENGTHS,
    ACCIDENTALS,
    BROKEN,
    BROKEN_PAIR,
    CLOSE_CHORD,
    FREE_CODES,
    IN_TUPLET,
    LENGTHS,
    MAX_OCTAVE_MARKS,
    NOTE_LETTERS,
    AbcGrammar,
    Length,
    Marks,
)
from rnnmusic.constraints import UNREACHABLE, Constraint, distances_to_end, explore
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import TYPICAL, CorpusProfile, drawn_sizes

TICKS = 48  # per unit length: holds /8 and two thirds of it, 3/2 and 3/4
OCTAVE = 7  # diatonic steps
# What a move does with bar lines. OPENS: "|" needs the bar full (or a pickup). CLOSES_FULL(…):
# a bar line that began with "|" ends; CLOSES_SECTION: a repeat sign ":|" ends, a short bar is
# fine. Each puts the position back to 0; after a section line a pickup may follow. TIE_BAR:
# a "|" inside a tie (`A2-|A2`) checks and closes at once. OPENS_REPEAT: ":" (of ":|") needs
# the bar full or short by the pickup.
NO_BAR, OPENS, CLOSES_FULL, CLOSES_FULL_SECTION, CLOSES_SECTION, TIE_BAR, OPENS_REPEAT = range(7)
CHECKERS = (OPENS, CLOSES_FULL, CLOSES_FULL_SECTION, TIE_BAR)
SHORT_ENDS = frozenset([":|", ":||", ":||:", ":|2"])  # may close a short bar
SECTION_LINES = SHORT_ENDS | {"||", "|]", "|:"}  # after these, a pickup bar may follow


@functools.cache
def length_ticks(length: str) -> int:
    """`2` → 96, `/` → 24, `3/4` → 36 (ticks of the unit length)."""
    if not length:
        return TICKS
    if length.startswith("/"):
        return TICKS // (int(length[1:]) if length[1:] else 2)
    top, _, bottom = length.partition("/")
    return int(Fraction(int(top), int(bottom) if bottom else 1) * TICKS)


@functools.cache
def shortest_completion(prefix: str) -> int:
    return min(length_ticks(w) for w in LENGTHS if w.startswith(prefix))


def bar_ticks(meter: str, unit: str) -> int:
    """Ticks in a bar of `meter` written in units of `unit` (0: no meter)."""
    if meter in ("", "none"):
        return 0
    value = {"C": Fraction(1), "C|": Fraction(1)}.get(meter)
    if value is None:
        top, bottom = meter.split("/")
        value = Fraction(int(top), int(bottom))
    top, _, bottom = unit.partition("/")
    return int(value / Fraction(int(top), int(bottom)) * TICKS)


@dataclass(frozen=True)
class Action:
    adds: int = 0  # a note, rest or chord ends: its length
    fit: int = 0  # one begins or grows: the least it can still last
    bar: int = NO_BAR
    bar_length: int = -1
    aligned: bool = False  # a tuplet ends: what follows must be able to fill the bar
    note: bool = False  # a note or chord ends (a tune needs MIN_NOTES before it may end)
    # the pitch being spelled: a letter sets it (SETS, `pitch` its step), an octave mark moves
    # it (MOVES, `pitch` ±7); `marks_left` marks may still follow, each moving it `direction`
    pitch_kind: int = 0
    pitch: int = 0
    direction: int = 0
    marks_left: int = 0
    settles: bool = False  # the note's pitch is complete: it joins the tune's span
    hornpipe: bool = False  # the R:hornpipe line ends
    pairs: bool = False  # the L: line makes plain notes the eighths abc2midi pairs (see below)
    breaks: bool = False  # a broken rhythm begins after its first note


NO_PITCH, SETS, MOVES = range(3)


def pitch_action(state, ch: str, after) -> Action:
    """What a move does to the pitch being spelled (see the module's docstring)."""
    spelling = state.kind == "note" and isinstance(state.part, Marks)
    marking = (
        spelling
        and after.kind == "note"
        and isinstance(after.part, Marks)
        and after.part.count == state.part.count + 1
    )
    if marking:
        direction = -1 if state.part.upper else 1
        left = MAX_OCTAVE_MARKS - after.part.count
        return Action(
            pitch_kind=MOVES, pitch=OCTAVE * direction, direction=direction, marks_left=left
        )
    starts = (
        ch in NOTE_LETTERS
        and after.kind == "note"
        and isinstance(after.part, Marks)
        and after.part.count == 0
    )
    if starts:
        direction = -1 if ch.isupper() else 1
        return Action(
            pitch_kind=SETS,
            pitch=step(ch),
            direction=direction,
            marks_left=MAX_OCTAVE_MARKS,
            settles=spelling,
        )
    return Action(settles=spelling)


def _tuplet_scale(ticks: int, where) -> int:
    return ticks * 2 // 3 if where.kind == "body" and where.last == IN_TUPLET else ticks


def action_of(state, ch: str, after) -> Action:
    """What a move does to the position in the bar (see the module's docstring)."""
    kind = state.kind
    if kind == "head" and ch == "\n" and state.line.startswith("L:"):
        pairs = (state.meter, state.line[2:]) in HORNPIPE_PAIRS
        return Action(bar_length=bar_ticks(state.meter, state.line[2:]), pairs=pairs)
    if kind == "head" and ch == "\n" and state.line == "R:hornpipe":
        return Action(hornpipe=True)
    if kind == "note" and after.kind == "tok" and after.token == "broken":
        return replace(_timing(state, ch, after), breaks=True)
    return _timing(state, ch, after)


# R:hornpipe: abc2midi plays an eighth (4/4) or a sixteenth (2/4) that falls off the beat after
# one as long as a broken pair itself, and refuses a written ">" that starts on that off-beat
# note ("Cannot apply broken rhythm. Notes not equal durations"): "ED>C" fails, "D>C" plays
HORNPIPE_PAIRS = frozenset([("4/4", "1/8"), ("C", "1/8"), ("2/4", "1/16")])


def _timing(state, ch: str, after) -> Action:
    kind = state.kind
    adds = fit = 0
    bar = NO_BAR
    aligned = note = False
    if kind == "note" and state.where.kind == "body":
        part, where = state.part, state.where
        growing = False
        if isinstance(part, (Marks, Length)):
            length = "" if isinstance(part, Marks) else part.written
            octave = isinstance(part, Marks) and ch == ("," if part.upper else "'")
            growing = (octave and part.count < MAX_OCTAVE_MARKS) or _LENGTHS.extends(length, ch)
            if growing:
                fit = _tuplet_scale(shortest_completion("" if octave else length + ch), where)
            else:
                adds = _tuplet_scale(length_ticks(length), where)
                note = True
                aligned = where.last == IN_TUPLET and where.ctx.tuplet_left == 0
        else:
            growing = True  # an accidental: the letter follows
            fit = _tuplet_scale(shortest_completion(""), where)
    elif kind == "note" and state.where.kind == "chord" and state.where.first is None:
        # a chord's first note sets its length: the chord lasts at least that times /8
        part = state.part
        if isinstance(part, (Marks, Length)):
            length = "" if isinstance(part, Marks) else part.written
            if _LENGTHS.extends(length, ch):
                fit = shortest_completion(length + ch) * SHORTEST_NOTE // TICKS
            elif after.kind in ("chord", "tok", "note"):
                fit = length_ticks(length) * SHORTEST_NOTE // TICKS
    elif kind == "tok" and (state.token == "rest" or state.token.startswith(CLOSE_CHORD)):
        scale = TICKS if state.token == "rest" else length_ticks(state.token[len(CLOSE_CHORD) :])
        if _LENGTHS.extends(state.part, ch):
            fit = shortest_completion(state.part + ch) * scale // TICKS
        elif state.part in LENGTHS:
            adds = length_ticks(state.part) * scale // TICKS
            note = state.token != "rest"
    elif (
        kind == "tok"
        and state.token == "bar"
        and not (after.kind == "tok" and after.token == "bar")
    ):
        if state.part in SHORT_ENDS:
            bar = CLOSES_SECTION
        else:
            bar = CLOSES_FULL_SECTION if state.part in SECTION_LINES else CLOSES_FULL
    elif kind == "tie" and ch == "|":
        bar = TIE_BAR
    # what `ch` begins, where it begins a note, a rest or a bar line
    if fit == 0 and not _still_in(state, after):
        fit = _begins(after, ch)
    fit = _with_what_must_follow(after, fit)
    if ch == "|" and after.kind == "tok" and after.part == "|":
        # a bar line needs the bar full (or a pickup); only a repeat sign ":|" may close a
        # short one. Letting "|" stand and checking at "||" or "|]" instead pushes a model
        # that wrote "|" a beat early into section lines it never meant
        bar = OPENS
    if ch == ":" and after.kind == "tok" and after.part == ":":
        bar = OPENS_REPEAT
    return Action(adds=adds, fit=fit, bar=bar, aligned=aligned, note=note)


SHORTEST_NOTE = TICKS // 8  # a /8 note
MARGIN = 8  # characters kept in hand before the deadline
MIN_NOTES = 16  # a tune shorter than this is not one a musician keeps
SHORTEST_TUPLET_NOTE = SHORTEST_NOTE * 2 // 3
PENDING_TOKENS = ("deco", "symbol", "paren", "broken")


def _context(state):
    """The body context (slur depth, has a note, tuplet notes left, repeat) a state carries."""
    kind = state.kind
    if kind in ("body", "line", "grace", "chord", "tok", "tie", "tied"):
        return state.ctx
    if kind == "note":
        return state.where.ctx
    return None


def _with_what_must_follow(after, fit: int) -> int:
    """`fit` plus the least time the notes that must still come take: the rest of a tuplet,
    and a note after a decoration, a chord symbol, a slur, a grace group or a tie (so a full
    bar never takes a `~` that no note can follow)."""
    ctx = _context(after)
    if ctx is None:
        return fit
    tuplet_left = ctx.tuplet_left
    kind = after.kind
    pending = (
        (kind == "body" and after.last not in FREE_CODES)
        or (kind == "tok" and after.token in PENDING_TOKENS)
        or kind in ("grace", "chord", "tie", "tied")
        or (kind == "note" and after.where.kind in ("grace", "chord"))
    )
    broken = (kind == "tok" and after.token == "broken") or (
        kind == "body" and after.last == BROKEN
    )
    if pending and fit == 0:
        fit = SHORTEST_NOTE if tuplet_left == 0 else SHORTEST_TUPLET_NOTE
        fit = TICKS if broken else fit  # "A>B": B is a note of the unit length
        tuplet_left = max(0, tuplet_left - 1)
    return fit + SHORTEST_TUPLET_NOTE * tuplet_left


def _still_in(state, after) -> bool:
    return state.kind == "note" and after.kind == "note" and after.where is state.where


def _begins(after, ch: str) -> int:
    """The least a note or rest that `ch` begins can last (0: `ch` begins neither)."""
    begins_note = ch in NOTE_LETTERS or ch in ACCIDENTALS
    if after.kind == "note" and after.where.kind == "body" and begins_note:
        if after.where.last == BROKEN_PAIR:  # the second note of "A>B" has the unit length
            return TICKS
        return _tuplet_scale(shortest_completion(""), after.where)
    if after.kind == "tok" and after.token == "rest" and ch == "z":
        return shortest_completion("")
    return 0


class AbcConstraint(Constraint):
    """The grammar's tables plus each sample's position in its bar."""

    def __init__(self, vocab: list[str], profile: CorpusProfile | None = None):
        grammar = AbcGrammar(profile)

        def transition(state, ch: str):
            after = grammar.step(state, ch)
            if after is None:
                return None
            pitch = pitch_action(state, ch, after)
            timing = action_of(state, ch, after)
            return after, replace(
                timing,
                pitch_kind=pitch.pitch_kind,
                pitch=pitch.pitch,
                direction=pitch.direction,
                marks_left=pitch.marks_left,
                settles=pitch.settles,
            )

        order, rows = explore(grammar.start, vocab, transition, grammar.is_done, 400_000)
        count, width = len(order), len(vocab)
        sink = count

        tables: dict[str, list] = {name: [] for name in _TABLES}
        forbidden = (sink, 0, 0, NO_BAR, -1, 0, 0, NO_PITCH, 0, 0, 0, 0, 0, 0, 0)
        for row in rows:
            cells = [
                forbidden
                if cell is None
                else (
                    cell[0],
                    cell[1].adds,
                    cell[1].fit,
                    cell[1].bar,
                    cell[1].bar_length,
                    int(cell[1].aligned),
                    int(cell[1].note),
                    cell[1].pitch_kind,
                    cell[1].pitch,
                    cell[1].direction,
                    cell[1].marks_left,
                    int(cell[1].settles),
                    int(cell[1].hornpipe),
                    int(cell[1].pairs),
                    int(cell[1].breaks),
                )
                for cell in row
            ]
            for name, column in zip(tables, zip(*cells, strict=True), strict=True):
                tables[name].append(column)
        for name, value in zip(tables, forbidden, strict=True):
            table = torch.tensor(tables[name], dtype=torch.long).reshape(count, width)
            setattr(self, name, torch.cat([table, torch.full((1, width), value)]))
        done = [grammar.is_done(s) for s in order]
        self.is_done = torch.tensor(done + [False])
        self.distance = torch.tensor(distances_to_end(rows, done) + [UNREACHABLE])
        self.num_states = count
        span = profile.quantile(STEP_RANGE, TYPICAL) if profile is not None else None
        self.max_span = NO_SPAN if span is None else max(OCTAVE, math.ceil(span))
        self.profile = profile

    def reset(self, batch: int, device: torch.device) -> None:
        for name in _TABLES:
            setattr(self, name, getattr(self, name).to(device))
        for name in ("is_done", "distance"):
            setattr(self, name, getattr(self, name).to(device))
        if int(self.distance[0]) >= UNREACHABLE:
            raise RnnMusicError(
                "this model's vocabulary cannot spell a whole tune, so --strict cannot "
                "guarantee valid samples; sample with --no-strict"
            )
        self.state = torch.zeros(batch, dtype=torch.long, device=device)
        self.position = torch.zeros(batch, dtype=torch.long, device=device)
        self.notes = torch.zeros(batch, dtype=torch.long, device=device)
        self.length = torch.zeros(batch, dtype=torch.long, device=device)  # 0: free bars
        self.first = torch.ones(batch, dtype=torch.bool, device=device)  # in the first bar
        self.pickup_length = torch.zeros(batch, dtype=torch.long, device=device)
        self.after_section = torch.zeros(batch, dtype=torch.bool, device=device)
        self.closing = torch.zeros(batch, dtype=torch.bool, device=device)
        self.lowest = torch.full((batch,), NO_SPAN, dtype=torch.long, device=device)
        self.highest = torch.full((batch,), -NO_SPAN, dtype=torch.long, device=device)
        self.pitch_now = torch.zeros(batch, dtype=torch.long, device=device)
        self.span = torch.full((batch,), self.max_span, dtype=torch.long, device=device)
        self.in_hornpipe = torch.zeros(batch, dtype=torch.bool, device=device)
        self.paired = torch.zeros(batch, dtype=torch.bool, device=device)  # plain notes pair

    def draw(self, generator: torch.Generator) -> None:
        """Each sample's span: drawn from the training tunes' spans (an octave at least)."""
        if self.max_span < NO_SPAN:
            batch, device = self.span.numel(), self.span.device
            drawn = drawn_sizes(self.profile, STEP_RANGE, OCTAVE, generator, batch, device)
            if drawn is not None:
                self.span = torch.minimum(drawn, self.span)

    def shortest_piece(self) -> int:
        return int(self.distance[0])

    def _keeps_time(self, s: torch.Tensor) -> torch.Tensor:
        """(B, V): moves whose notes fit the bar and whose bar lines close bars as folk tunes
        do: full, or the first bar short (a pickup), a section's last bar short by that
        pickup (closed by ":|") and the next section's first bar as long as the pickup."""
        length = self.length[:, None]
        at = self.position[:, None] + self.adds[s]
        bar = self.bar[s]
        first, pickup = self.first[:, None], self.pickup_length[:, None]
        full = at == length
        checks = torch.zeros_like(full)
        for kind in CHECKERS:
            checks |= bar == kind
        leads_in = self.after_section[:, None] & (pickup > 0) & (at == pickup)
        ok = at <= length
        ok &= (self.aligned[s] == 0) | (at % SHORTEST_NOTE == 0)  # "(3ABc" leaves no sliver
        ok &= ~checks | full | first | leads_in
        answers = (pickup > 0) & (at == length - pickup)  # "…E2:|" makes up the pickup
        repeat = (bar == CLOSES_SECTION) | (bar == OPENS_REPEAT)
        ok &= ~repeat | full | first | answers
        closes = (bar >= CLOSES_FULL) & (bar <= TIE_BAR)
        start = torch.where(closes, 0, at)
        ok &= start + self.fit[s] <= length
        return ok | (length == 0)

    def _in_span(self, s: torch.Tensor) -> torch.Tensor:
        """(B, V): moves after which the note being spelled can still end within the span."""
        if self.max_span >= NO_SPAN:
            return torch.ones_like(self.settles[s], dtype=torch.bool)
        now, span = self.pitch_now[:, None], self.span[:, None]
        lowest, highest = self.lowest[:, None], self.highest[:, None]
        ends_within = (now >= highest - span) & (now <= lowest + span)
        settles = self.settles[s] > 0
        ok = ~settles | ends_within
        # a letter after a chord note ("[CE"): the span with the note just ended
        lowest = torch.where(settles, torch.minimum(lowest, now), lowest)
        highest = torch.where(settles, torch.maximum(highest, now), highest)
        kind = self.pitch_kind[s]
        pitch = torch.where(kind == SETS, self.pitch[s], now + self.pitch[s])
        direction, left = self.direction[s], self.marks_left[s]
        reachable = torch.zeros_like(ok)
        for marks in range(MAX_OCTAVE_MARKS + 1):
            there = pitch + OCTAVE * marks * direction
            inside = (there >= highest - span) & (there <= lowest + span)
            reachable |= inside & (marks <= left)
        return ok & ((kind == NO_PITCH) | reachable)

    def allowed(self, steps_left: torch.Tensor, may_end: torch.Tensor) -> torch.Tensor:
        s = self.state
        candidates = self.next_state[s]  # (B, V)
        after = self.distance[candidates]
        syntax = after < UNREACHABLE
        in_span = self._in_span(s)
        timed = syntax & self._keeps_time(s) & in_span
        # a hornpipe's broken rhythm starts where abc2midi's own pairs start: on the beat
        off_beat = self.in_hornpipe & self.paired & (self.position % (2 * TICKS) != 0)
        timed &= ~((self.breaks[s] > 0) & off_beat[:, None])
        # the grammar's shortest way to the end may pass a note the bar has no room for (then
        # a bar line and a note more): keep a few characters in hand where there are any
        within = after <= steps_left[:, None] - 1
        roomy = timed & (after + MARGIN <= steps_left[:, None] - 1)
        ok = torch.where(roomy.any(1, keepdim=True), roomy, timed & within)
        shortest = after < self.distance[s][:, None]
        ok = torch.where(self.closing[:, None], ok & shortest, ok)
        ends = self.is_done[candidates]
        not_yet = ok & ~ends
        may_end = may_end & (self.notes >= MIN_NOTES)  # a tune is not over before its notes
        ok = torch.where(may_end[:, None] | ~not_yet.any(1, keepdim=True), ok, not_yet)
        # where keeping time leaves only the end, a tune short of its notes is stuck (below)
        ok &= ~((self.notes < MIN_NOTES)[:, None] & ~not_yet.any(1, keepdim=True))
        # a sample with no move left that keeps time and ends in time (rare: a tuplet left a
        # sliver of a bar) gives up the bar before the tune: the grammar's moves that end in
        # time, else those nearest the end
        stuck = ~ok.any(1, keepdim=True)
        if bool(stuck.any()):
            in_time = syntax & within
            in_time = torch.where(
                (in_time & in_span).any(1, keepdim=True), in_time & in_span, in_time
            )
            nearest = torch.where(syntax, after, UNREACHABLE).min(1, keepdim=True).values
            fallback = torch.where(
                in_time.any(1, keepdim=True), in_time, syntax & (after == nearest)
            )
            # giving up the bar is no reason to end a tune short of its notes
            short = (self.notes < MIN_NOTES)[:, None]
            going_on = fallback & ~ends
            fallback = torch.where(short & going_on.any(1, keepdim=True), going_on, fallback)
            ok = torch.where(stuck, fallback, ok)
        return ok | self.is_done[s][:, None]

    def ending(self) -> torch.Tensor:
        has_notes = (self.notes >= MIN_NOTES)[:, None]
        return self.is_done[self.next_state[self.state]] & has_notes

    def close(self, which: torch.Tensor) -> None:
        self.closing |= which

    def advance(self, ids: torch.Tensor) -> None:
        s = self.state
        live = ~self.is_done[s]
        bar = self.bar[s, ids]
        closes = live & (bar >= CLOSES_FULL) & (bar <= TIE_BAR)
        at = self.position + self.adds[s, ids]
        first_closes = closes & self.first
        short = at < self.length
        self.pickup_length = torch.where(first_closes & short, at, self.pickup_length)
        self.first &= ~closes
        section = (bar == CLOSES_SECTION) | (bar == CLOSES_FULL_SECTION)
        self.after_section = torch.where(closes, section, self.after_section)
        self.position = torch.where(closes, 0, at)
        self.notes += ((self.note[s, ids] > 0) & live).long()
        set_length = self.bar_length[s, ids]
        self.length = torch.where(live & (set_length >= 0), set_length, self.length)
        self.in_hornpipe |= live & (self.hornpipe[s, ids] > 0)
        set_length = self.bar_length[s, ids] >= 0
        self.paired = torch.where(live & set_length, self.pairs[s, ids] > 0, self.paired)
        settles = live & (self.settles[s, ids] > 0)
        self.lowest = torch.where(settles, torch.minimum(self.lowest, self.pitch_now), self.lowest)
        self.highest = torch.where(
            settles, torch.maximum(self.highest, self.pitch_now), self.highest
        )
        kind = self.pitch_kind[s, ids]
        moved = torch.where(kind == SETS, self.pitch[s, ids], self.pitch_now + self.pitch[s, ids])
        self.pitch_now = torch.where(live & (kind != NO_PITCH), moved, self.pitch_now)
        self.state = torch.where(live, self.next_state[s, ids], s)

    def done(self) -> torch.Tensor:
        return self.is_done[self.state]


NO_SPAN = 1_000  # steps: no span kept (no profile, or one without the fact)
_TABLES = (
    "next_state",
    "adds",
    "fit",
    "bar",
    "bar_length",
    "aligned",
    "note",
    "pitch_kind",
    "pitch",
    "direction",
    "marks_left",
    "settles",
    "hornpipe",
    "pairs",
    "breaks",
)
