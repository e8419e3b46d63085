"""The strict grammar of the abc codec: a finite-state machine over characters that accepts only
tunes `decode` returns unchanged, with no repairs, that music21 reads and that abc2midi reads
without an error (all but a few percent of random walks; the tests measure it).

It is a subset of codecs/abc/README.md's grammar, kept to what both tools agree on and what folk
tunes use (the spec's "Strict sampling" section lists what is left out). Besides the tokens, the
state holds what the tools check across tokens:

- slurs nest at most MAX_SLUR_DEPTH deep and close before the tune ends;
- a `(3` tuplet is followed by three notes, with no bar line, rest, chord or tuplet between;
- repeats: `|1` opens a first ending, `:|2` only closes one, and no repeat is open at the end;
- a tie joins two notes of the same spelling (abc2midi looks for the same pitch), with at most a
  space and a bar line between; a broken rhythm joins two notes of the unit length;
- what comes before a note comes in the order ABC 2.1 gives: slurs, a tuplet and a chord symbol,
  then a grace group, then decorations, then the note (abc2midi reads `~"C"A` as a malformed
  note), and decorations stand only before notes and rests (`T[AB]`: "trills not supported in
  chords").

States are small named tuples (`Header`, `Body`, `Line`, `Token`, `Note`, `Tie`, `Tied`, `Chord`,
`Grace`, each kind first; a body context is a `Context`), so `TableConstraint` compiles the
machine into tables once per vocabulary (about a second). A token in progress carries only
what its end needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from rnnmusic.codecs.abc.fields import CANONICAL_RHYTHMS, FIFTHS, MODES
from rnnmusic.codecs.abc.profile import KEY, METER, NO_RHYTHM, RHYTHM, UNIT
from rnnmusic.profile import COVERAGE, CorpusProfile

MAX_SLUR_DEPTH = 2
MAX_OCTAVE_MARKS = 2  # C,, … c'' : the corpus never goes past one mark
MAX_CHORD_NOTES = 4  # abc2midi: "too many notes in chord" beyond its limit
MAX_BROKEN = 3  # ">>>" and "<<<": the longest broken rhythms
TUPLET_NOTES = 3  # only (3: the corpus's other tuplets are 33 of 5,129
# note lengths music21 writes as one note with dots (5, 7, 9 … are "complex" and fail to parse)
LENGTHS = frozenset(["", "2", "3", "4", "6", "8", "12", "16", "/", "/4", "/8", "3/2", "3/4"])
METERS = frozenset(
    ["C", "C|", "none"] + [f"{n}/{d}" for n in range(1, 13) for d in (1, 2, 4, 8, 16)]
)
UNITS = frozenset(f"1/{d}" for d in (2, 4, 8, 16, 32))  # 16 units of 1/1 would be "complex"
KEYS = frozenset(
    letter + alter + mode
    for letter in FIFTHS
    for alter, shift in (("", 0), ("#", 7), ("b", -7))
    for mode, offset in MODES.items()
    if abs(FIFTHS[letter] + shift + offset) <= 7
)
CHORD_QUALITIES = frozenset(["", "m", "7", "m7", "maj7", "dim", "aug", "6", "sus4"])
DECORATIONS = frozenset(["fermata", "trill", "accent", "p", "mf", "f", "ff"])
SHORT_DECORATIONS = ".~Tuv"
NOTE_LETTERS = "ABCDEFGabcdefg"
ACCIDENTALS = "^_="

# What was written last (the `last` of a body state). Free: anything may follow.
START, SPACE, BAR, NOTE, PLAIN, REST, CHORD, CLOSE = range(8)  # PLAIN: a note of unit length
# Pending: a note must follow, after what ABC 2.1 lets stand between (see `_body`).
PRE, SYMBOL, GRACE, GRACE_SPACE, GRACE_DECO, DECO, SHORT, SHORTS, BROKEN = range(8, 17)
FREE_CODES = frozenset(range(PRE))
AFTER_GRACE = (GRACE, GRACE_SPACE)
NOTE_LIKE = (NOTE, PLAIN, REST, CHORD, CLOSE)
DECORATED = (DECO, SHORT, SHORTS)
# Repeats: none open, "|:" open, in a first ending "|1"
# Repeats, as abc2midi checks them: none open (an ending may open: the repeat is from the
# start or from a "||"), closed by ":|" (an ending needs a "|:" first), in a second ending
# (which a "||", "|]" or repeat sign must close before the next "|1"), "|:" open, in "|1"
REPEAT_STATES = range(5)
NO_REPEAT, CLOSED, SECOND_ENDING, REPEAT, FIRST_ENDING = REPEAT_STATES
# How a note in the body ends: free (may be tied or take a broken rhythm), the second note of
# a broken rhythm (unit length, no tie, no further broken rhythm), or fixed (in a tuplet or
# decorated: abc2midi ties no staccato note and breaks no rhythm of a fermata)
FREE, BROKEN_PAIR, FIXED, IN_TUPLET = range(4)  # IN_TUPLET: fixed, and 2/3 of its length
MAX_GRACE_NOTES = 4
CLOSE_CHORD = "close:"  # the token after "]", with the chord's first note's length
# The header's lines, in the order of `header_tries`: the first (R:, or M: where a tune may go
# without an R: line), M:, L:, K:, and M: after "R:hornpipe" (a meter a hornpipe may take)
FIRST_LINE, METER_LINE, UNIT_LINE, KEY_LINE, HORNPIPE_METER_LINE = range(5)


# The machine's states. Each is a tuple whose first field names its kind, so states hash and
# compare as the plain tuples they are (the table compiler only needs that); the field names say
# what the other positions hold.


class Context(NamedTuple):
    """What a body state knows of the tune so far, beyond the token it is in."""

    slurs: int  # slurs open (at most MAX_SLUR_DEPTH)
    has_note: bool  # the tune has a note (it may end)
    tuplet_left: int  # notes the open "(3" tuplet still takes (0: none open)
    repeat: int  # NO_REPEAT … FIRST_ENDING


class Plain(NamedTuple):
    """A state that is its kind alone: "done" (the tune and its blank line are written)."""

    kind: str


class Header(NamedTuple):
    """A header line being written ("head")."""

    kind: str
    stage: int  # which line: FIRST_LINE … HORNPIPE_METER_LINE
    line: str  # the line so far
    meter: str  # the meter, once its line is done ("" before; the L: line uses it up)


class Body(NamedTuple):
    """Between tokens in the body ("body"). Inside a `Note` (its `where`), the same shape says
    where a note stands in the body: `last` is then how the note may end (FREE … IN_TUPLET)."""

    kind: str
    ctx: Context
    last: int  # what was written last: START … BROKEN (free codes, then pending ones)


class Line(NamedTuple):
    """Just after a body line's newline ("line"): a blank line ends the tune."""

    kind: str
    ctx: Context


class Token(NamedTuple):
    """A token in progress ("tok"), holding the context after it."""

    kind: str
    # which token: "rest", CLOSE_CHORD + the chord's first note's length, "paren", "broken",
    # "bar", "symbol" or "deco"
    token: str
    # what it has so far: the length, broken rhythm, bar line, chord symbol stage or decoration
    # written; for "paren", the `last` code of the body state before it
    part: str | int
    ctx: Context


class Marks(NamedTuple):
    """A note's part: its letter written, octave marks may follow ("marks")."""

    kind: str
    upper: bool  # an upper-case letter (takes ","), else lower case (takes "'")
    count: int  # octave marks written


class Length(NamedTuple):
    """A note's part: its length being written ("len")."""

    kind: str
    written: str  # the length so far


class Note(NamedTuple):
    """A note being spelled ("note")."""

    kind: str
    part: str | Marks | Length  # the accidental written so far (a str), or the letter's part
    where: Body | Chord | Grace  # where the note stands, as that state was before it began
    spelling: str | None  # letter and octave marks, for a tied note to repeat (None: no tie)


class Tie(NamedTuple):
    """Between a tie's "-" and the tied note ("tie")."""

    kind: str
    spelling: str  # the tied note's letter and octave marks
    between: str  # what stands between: a space, a bar line "|", or both
    ctx: Context


class Tied(NamedTuple):
    """The tied note being spelled as the note before the tie ("tied")."""

    kind: str
    spelling: str
    matched: int  # characters of `spelling` written
    ctx: Context


class Chord(NamedTuple):
    """Inside a chord's brackets, between notes ("chord")."""

    kind: str
    ctx: Context
    notes: int  # notes written
    first: str | None  # the first note's length (None before it ends)


class Grace(NamedTuple):
    """Inside a grace group's braces, between notes ("grace")."""

    kind: str
    ctx: Context
    notes: int  # notes written


DONE = Plain("done")
# a note's parts are few: made once (a note's spelling makes millions of moves)
MARKS = {
    (upper, n): Marks("marks", upper, n)
    for upper in (False, True)
    for n in range(MAX_OCTAVE_MARKS + 1)
}


class _Trie:
    """Prefixes of a finite set of strings: which characters may come next, and which are whole."""

    def __init__(self, words: Iterable[str]):
        self.words = frozenset(words)
        self.prefixes = frozenset(w[:i] for w in self.words for i in range(len(w) + 1))

    def extends(self, prefix: str, ch: str) -> bool:
        return prefix + ch in self.prefixes


HORNPIPE_METERS = frozenset(["2/4", "4/4", "C"])  # abc2midi: "Hornpipe must be in 2/4 or 4/4"


def header_tries(profile: CorpusProfile | None = None) -> tuple[_Trie, ...]:
    """The lines allowed at each header stage: every value the grammar spells, or with a corpus
    profile the usual ones of the training tunes (a tune never opens in 11/16 and C#dor
    because the grammar could spell them)."""
    rhythms, meters, units, keys = set(CANONICAL_RHYTHMS), METERS, UNITS, KEYS
    bare = True  # a tune may go without an R: line
    if profile is not None:
        rhythms = _usual(profile, RHYTHM, rhythms)
        bare = NO_RHYTHM in (profile.allowed(RHYTHM, COVERAGE) or {NO_RHYTHM})
        meters = _usual(profile, METER, meters) or meters
        units = _usual(profile, UNIT, units) or units
        keys = _usual(profile, KEY, keys) or keys
        if not rhythms:
            bare = True
    meter_lines = [f"M:{m}" for m in meters]
    hornpipe = [f"M:{m}" for m in sorted(HORNPIPE_METERS & meters)]
    if not hornpipe:
        rhythms = rhythms - {"hornpipe"}
    return (
        _Trie([f"R:{r}" for r in rhythms] + (meter_lines if bare else [])),
        _Trie(meter_lines),
        _Trie(f"L:{u}" for u in units),
        _Trie(f"K:{k}" for k in keys),
        _Trie(hornpipe),
    )


def _usual(profile: CorpusProfile, name: str, spelled) -> frozenset[str]:
    return (profile.allowed(name, COVERAGE) or frozenset()) & frozenset(spelled)


_LENGTHS = _Trie(LENGTHS)
LENGTH_PARTS = {prefix: Length("len", prefix) for prefix in _LENGTHS.prefixes}
_QUALITIES = _Trie(CHORD_QUALITIES)
_DECORATIONS = _Trie(DECORATIONS)


class AbcGrammar:
    """`rnnmusic.constraints.CharGrammar` for one canonical tune followed by the blank line.

    A body context `ctx` is a `Context`: slur depth, has a note, tuplet notes left, repeats."""

    start = Header("head", FIRST_LINE, "", "")

    def __init__(self, profile: CorpusProfile | None = None):
        self.header = header_tries(profile)

    def is_done(self, state) -> bool:
        return state.kind == "done"

    def step(self, state, ch: str):
        kind = state.kind
        if kind == "head":
            return _header(state, ch, self.header)
        if kind == "body":
            return _body(state.ctx, state.last, ch)
        if kind == "line":  # just after a body line's "\n"
            ctx = state.ctx
            if ch == "\n":
                ok = ctx.slurs == 0 and ctx.has_note and ctx.repeat < REPEAT
                return DONE if ok else None
            return _body(ctx, START, ch)
        if kind == "note":
            return _in_note(state, ch)
        if kind == "tie":
            return _in_tie(state, ch)
        if kind == "tied":
            return _in_tied(state, ch)
        if kind == "chord":
            return _in_chord(state, ch)
        if kind == "grace":
            return _in_grace(state, ch)
        return _in_token(state, ch)


def _header(state: Header, ch: str, tries: tuple[_Trie, ...]):
    stage, prefix, meter = state.stage, state.line, state.meter
    lines = tries[stage]
    if ch == "\n" and prefix in lines.words:
        if stage == KEY_LINE:
            return Body("body", Context(0, False, 0, NO_REPEAT), START)
        if prefix.startswith("R:"):
            after = HORNPIPE_METER_LINE if prefix == "R:hornpipe" else METER_LINE
            return Header("head", after, "", meter)
        if prefix.startswith("M:"):
            return Header("head", UNIT_LINE, "", prefix[2:])
        return Header("head", KEY_LINE, "", "")  # the L: line has used the meter
    return Header("head", stage, prefix + ch, meter) if lines.extends(prefix, ch) else None


def _body(ctx: Context, last: int, ch: str):
    """The state after `ch` where a new token may start. Before a note come, in this order:
    slurs, a tuplet and a chord symbol, then a grace group, then decorations. abc2midi reads `~"C"A`,
    `~(AB)` and `~{g}A` as malformed, and `{g}~A` as two grace groups."""
    depth, tuplet = ctx.slurs, ctx.tuplet_left
    if last == BROKEN:  # only the note; a slur may close or open between: "(AB>)c", "A>(Bc)"
        if ch == ")" and depth:
            return Body("body", Context(depth - 1, ctx.has_note, tuplet, ctx.repeat), BROKEN)
        if ch == "(":
            return Token("tok", "paren", BROKEN, ctx)
        if ch not in NOTE_LETTERS and ch not in ACCIDENTALS:
            return None
        return _note_start(Body("body", _after_event(ctx, True), BROKEN_PAIR), ch)
    if ch in NOTE_LETTERS or ch in ACCIDENTALS:  # tokens in progress hold the context after them
        decorated = last in (DECO, SHORT, SHORTS, GRACE_DECO)
        mode = IN_TUPLET if tuplet else FIXED if decorated else FREE
        return _note_start(Body("body", _after_event(ctx, True), mode), ch)
    if tuplet and ch not in " ()" + SHORT_DECORATIONS:  # "(3": notes, slurs and staccato
        return None
    undecorated = last in FREE_CODES or last in (PRE, SYMBOL, DECO)
    if ch in SHORT_DECORATIONS:
        if last in (SHORT, SHORTS):
            return Body("body", ctx, SHORTS)
        if last in AFTER_GRACE and ch != "~":
            return Body("body", ctx, GRACE_DECO)
        return Body("body", ctx, SHORT) if undecorated else None
    if ch == "!":
        return Token("tok", "deco", "", ctx) if undecorated else None
    if ch == "z":
        rest = Token("tok", "rest", "", _after_event(ctx, False))
        return rest if undecorated or last == SHORT else None
    if ch == "(":
        return Token("tok", "paren", last, ctx) if undecorated or last in AFTER_GRACE else None
    if ch == " " and last == GRACE:  # "{g} A"
        return Body("body", ctx, GRACE_SPACE)
    if ch in "{[":
        if last in FREE_CODES or last in (PRE, SYMBOL):
            if ch == "{":
                return Grace("grace", ctx, 0)
            return Chord("chord", _after_event(ctx, True), 0, None)
        return None
    if ch == '"':
        return Token("tok", "symbol", "root", ctx) if last in FREE_CODES or last == PRE else None
    if last not in FREE_CODES:  # a prefix waits for its note
        return None
    if ch == "\n":
        return Line("line", ctx) if last not in (START, SPACE) and tuplet == 0 else None
    if ch == " ":
        return Body("body", ctx, SPACE) if last not in (START, SPACE) else None
    if ch == ")":
        ok = depth and last in NOTE_LIKE
        return (
            Body("body", Context(depth - 1, ctx.has_note, tuplet, ctx.repeat), CLOSE)
            if ok
            else None
        )
    if ch in "<>":
        return Token("tok", "broken", ch, ctx) if last == PLAIN and tuplet == 0 else None
    if ch in "|:" and last != BAR and tuplet == 0:
        return Token("tok", "bar", ch, ctx)
    return None


def _note_start(where: Body | Chord | Grace, ch: str):
    """A note begins. A note outside tuplets, chords and grace groups, without an accidental,
    may be tied: it carries its spelling (letter and octave marks) for the tied note to repeat."""
    if ch in ACCIDENTALS:
        return Note("note", ch, where, None)
    if ch not in NOTE_LETTERS:
        return None
    can_tie = where.kind == "body" and where.last == FREE
    return Note("note", MARKS[ch.isupper(), 0], where, ch if can_tie else None)


def _in_note(state: Note, ch: str):
    part, where, spelling = state.part, state.where, state.spelling
    if part in ("^", "_") and ch == part:
        return Note("note", part * 2, where, None)
    if isinstance(part, str):  # after an accidental: the letter
        if ch not in NOTE_LETTERS:
            return None
        return Note("note", MARKS[ch.isupper(), 0], where, None)
    if part.kind == "marks":
        upper, marks = part.upper, part.count
        if ch == ("," if upper else "'") and marks < MAX_OCTAVE_MARKS:
            marked = MARKS[upper, marks + 1]
            return Note("note", marked, where, spelling and spelling + ch)
        length = ""
    else:
        length = part.written
    if _LENGTHS.extends(length, ch) and where.kind != "grace":  # grace notes take no length
        return Note("note", LENGTH_PARTS[length + ch], where, spelling)
    if length not in LENGTHS:
        return None
    ctx = where.ctx
    closing = "]" if where.kind == "chord" else "}"
    if where.kind != "body" and ch not in NOTE_LETTERS and ch not in ACCIDENTALS and ch != closing:
        return None  # in a chord or grace group only a note or the closing bracket follows
    if where.kind == "chord":  # a chord lasts as long as its first note, times its own length
        first = where.first if where.first is not None else length
        return _in_chord(Chord("chord", ctx, where.notes + 1, first), ch)
    if where.kind == "grace":
        return _in_grace(Grace("grace", ctx, where.notes + 1), ch) if not length else None
    if where.last == BROKEN_PAIR and length:  # a broken rhythm joins notes of the unit length
        return None
    if ch == "-" and spelling:
        return Tie("tie", spelling, "", ctx)
    return _body(ctx, PLAIN if length == "" and where.last == FREE else NOTE, ch)


def _after_event(ctx: Context, is_note: bool) -> Context:
    if not ctx.tuplet_left and (ctx.has_note or not is_note):
        return ctx  # unchanged
    return Context(ctx.slurs, ctx.has_note or is_note, max(0, ctx.tuplet_left - 1), ctx.repeat)


def _in_tie(state: Tie, ch: str):
    """Between `A-` and its `A`: nothing, or a bar line `|` with a space either side or not."""
    spelling, between, ctx = state.spelling, state.between, state.ctx
    if ch == spelling[0]:
        return _in_tied(Tied("tied", spelling, 1, _after_event(ctx, True)))
    if ch == " " and not between.endswith(" "):
        return Tie("tie", spelling, between + " ", ctx)
    if ch == "|" and "|" not in between:
        return Tie("tie", spelling, between + "|", ctx)
    return None


def _in_tied(state: Tied, ch: str | None = None):
    """The tied note, spelled as the note before the tie; then its length as any note's."""
    spelling, matched, ctx = state.spelling, state.matched, state.ctx
    if ch is None and matched < len(spelling):
        return state
    if matched < len(spelling):
        return Tied("tied", spelling, matched + 1, ctx) if ch == spelling[matched] else None
    note = Note("note", LENGTH_PARTS[""], Body("body", ctx, FREE), spelling)
    return note if ch is None else _in_note(note, ch)


def _in_chord(state: Chord, ch: str):
    if ch in NOTE_LETTERS or ch in ACCIDENTALS:
        return _note_start(state, ch) if state.notes < MAX_CHORD_NOTES else None
    if ch == "]" and state.notes:
        return Token("tok", CLOSE_CHORD + state.first, "", state.ctx)
    return None


def _in_grace(state: Grace, ch: str):
    if ch in NOTE_LETTERS or ch in ACCIDENTALS:
        return _note_start(state, ch) if state.notes < MAX_GRACE_NOTES else None
    if ch == "}" and state.notes:
        return Body("body", state.ctx, GRACE)
    return None


def _in_token(state: Token, ch: str):
    """Continue the token in progress, or end it and start the next with `ch`."""
    kind, part, ctx = state.token, state.part, state.ctx
    depth, tuplet = ctx.slurs, ctx.tuplet_left
    if kind == "rest" or kind.startswith(CLOSE_CHORD):
        if _LENGTHS.extends(part, ch):
            return Token("tok", kind, part + ch, ctx)
        if part not in LENGTHS:
            return None
        return _body(ctx, REST if kind == "rest" else CHORD, ch)
    if kind == "paren":  # "(" opens a slur, "(3" is a tuplet; `part` is what came before
        if ch == str(TUPLET_NOTES):
            ok = (part in FREE_CODES or part in (PRE, SYMBOL)) and tuplet == 0  # '"D"(3ABc'
            after = SYMBOL if part == SYMBOL else PRE
            return (
                Body("body", Context(depth, ctx.has_note, TUPLET_NOTES, ctx.repeat), after)
                if ok
                else None
            )
        if depth >= MAX_SLUR_DEPTH:
            return None
        after = PRE if part in FREE_CODES else part  # a slur keeps what came before it
        return _body(Context(depth + 1, ctx.has_note, tuplet, ctx.repeat), after, ch)
    if kind == "broken":
        if ch == part[0] and len(part) < MAX_BROKEN:
            return Token("tok", kind, part + ch, ctx)
        return _body(ctx, BROKEN, ch)
    if kind == "bar":
        return _in_bar(part, ctx, ch)
    if kind == "symbol":
        return _in_symbol(part, ctx, ch)
    if kind == "deco":
        if ch == "!" and part in DECORATIONS:
            return Body("body", ctx, DECO)
        return Token("tok", kind, part + ch, ctx) if _DECORATIONS.extends(part, ch) else None
    raise AssertionError(kind)


_BAR_NEXT = {  # bar lines as the lexer reads them greedily: only canonical spellings
    "|": {"|": "||", "]": "|]", ":": "|:", "1": "|1"},
    ":": {"|": ":|"},
    ":|": {"|": ":||", "2": ":|2"},
    ":||": {":": ":||:"},
}
_REPEATS = {  # bar line: {repeat state before: repeat state after}
    "|": {r: r for r in REPEAT_STATES},
    "||": {NO_REPEAT: NO_REPEAT, CLOSED: NO_REPEAT, SECOND_ENDING: NO_REPEAT, REPEAT: REPEAT},
    "|:": {NO_REPEAT: REPEAT, CLOSED: REPEAT, SECOND_ENDING: REPEAT},
    "|1": {NO_REPEAT: FIRST_ENDING, REPEAT: FIRST_ENDING},
    ":|": {r: CLOSED for r in REPEAT_STATES},
    ":|2": {FIRST_ENDING: SECOND_ENDING},
    ":||:": {r: REPEAT for r in REPEAT_STATES},
}
_REPEATS["|]"] = _REPEATS["||"]


def _in_bar(part: str, ctx: Context, ch: str):
    following = _BAR_NEXT.get(part, {})
    if ch in following:
        return Token("tok", "bar", following[ch], ctx)
    after = _REPEATS.get(part, {}).get(ctx.repeat)
    if after is None:
        return None
    return _body(Context(ctx.slurs, ctx.has_note, ctx.tuplet_left, after), BAR, ch)


def _in_symbol(part: str, ctx: Context, ch: str):
    """`"Am7/G"`: a root, one of CHORD_QUALITIES, and an optional bass note."""
    done = Body("body", ctx, SYMBOL)
    if part == "root":
        return Token("tok", "symbol", "acc", ctx) if ch in "ABCDEFG" else None
    if part in ("acc", "bass-acc") and ch in "#b":
        return Token("tok", "symbol", "quality:" if part == "acc" else "end", ctx)
    if part == "acc":
        part = "quality:"
    if part.startswith("quality:"):
        quality = part[len("quality:") :]
        if _QUALITIES.extends(quality, ch):
            return Token("tok", "symbol", part + ch, ctx)
        if quality not in CHORD_QUALITIES:
            return None
        if ch == "/":
            return Token("tok", "symbol", "bass", ctx)
        return done if ch == '"' else None
    if part == "bass":
        return Token("tok", "symbol", "bass-acc", ctx) if ch in "ABCDEFG" else None
    return done if ch == '"' else None
