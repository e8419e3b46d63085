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

States are small tuples, so `TableConstraint` compiles the machine into tables once per
vocabulary (about a second). A token in progress carries only what its end needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from rnnmusic.codecs.abc.fields import CANONICAL_RHYTHMS, FIFTHS, MODES
from rnnmusic.codecs.abc.profile import KEY, METER, NO_RHYTHM, RHYTHM, UNIT
from rnnmusic.profile import COVERAGE, CorpusProfile

MAX_SLUR_DEPTH = 2
MAX_OCTAVE_MARKS = 2  # C,, … c'' : the corpus never goes past one mark
MAX_CHORD_NOTES = 4  # abc2midi: "too many notes in chord" beyond its limit
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
NO_REPEAT, CLOSED, SECOND_ENDING, REPEAT, FIRST_ENDING = range(5)
# How a note in the body ends: free (may be tied or take a broken rhythm), the second note of
# a broken rhythm (unit length, no tie, no further broken rhythm), or fixed (in a tuplet or
# decorated: abc2midi ties no staccato note and breaks no rhythm of a fermata)
FREE, BROKEN_PAIR, FIXED, IN_TUPLET = range(4)  # IN_TUPLET: fixed, and 2/3 of its length
MAX_GRACE_NOTES = 4
DONE = ("done",)
CLOSE_CHORD = "close:"  # the token after "]", with the chord's first note's length


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
_QUALITIES = _Trie(CHORD_QUALITIES)
_DECORATIONS = _Trie(DECORATIONS)


class AbcGrammar:
    """`rnnmusic.constraints.CharGrammar` for one canonical tune followed by the blank line.

    A body context `ctx` is (slur depth, has a note, tuplet notes left, repeat state)."""

    start = ("head", 0, "", "")  # stage, line so far, the meter once its line is done

    def __init__(self, profile: CorpusProfile | None = None):
        self.header = header_tries(profile)

    def is_done(self, state) -> bool:
        return state == DONE

    def step(self, state, ch: str):
        kind = state[0]
        if kind == "head":
            return _header(state, ch, self.header)
        if kind == "body":
            return _body(state[1], state[2], ch)
        if kind == "line":  # just after a body line's "\n"
            ctx = state[1]
            if ch == "\n":
                depth, has_note, _, repeat = ctx
                return DONE if depth == 0 and has_note and repeat < REPEAT else None
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


def _header(state, ch: str, tries: tuple[_Trie, ...]):
    _, stage, prefix, meter = state
    lines = tries[stage]
    if ch == "\n" and prefix in lines.words:
        if stage == 3:
            return ("body", (0, False, 0, NO_REPEAT), START)
        if prefix.startswith("R:"):
            return ("head", 4 if prefix == "R:hornpipe" else 1, "", meter)
        if prefix.startswith("M:"):
            return ("head", 2, "", prefix[2:])
        return ("head", stage + 1, "", "")  # the L: line has used the meter
    return ("head", stage, prefix + ch, meter) if lines.extends(prefix, ch) else None


def _body(ctx: tuple, last: int, ch: str):
    """The state after `ch` where a new token may start. Before a note come, in this order:
    slurs, a tuplet and a chord symbol, then a grace group, then decorations. abc2midi reads `~"C"A`,
    `~(AB)` and `~{g}A` as malformed, and `{g}~A` as two grace groups."""
    depth, has_note, tuplet, repeat = ctx
    if last == BROKEN:  # only the note; a slur may close or open between: "(AB>)c", "A>(Bc)"
        if ch == ")" and depth:
            return ("body", (depth - 1, has_note, tuplet, repeat), BROKEN)
        if ch == "(":
            return ("tok", "paren", BROKEN, ctx)
        return _note_start(("body", _after_event(ctx, True), BROKEN_PAIR), ch)
    if ch in NOTE_LETTERS or ch in ACCIDENTALS:  # tokens in progress hold the context after them
        decorated = last in (DECO, SHORT, SHORTS, GRACE_DECO)
        mode = IN_TUPLET if tuplet else FIXED if decorated else FREE
        return _note_start(("body", _after_event(ctx, True), mode), ch)
    if tuplet and ch not in " ()" + SHORT_DECORATIONS:  # "(3": notes, slurs and staccato
        return None
    undecorated = last in FREE_CODES or last in (PRE, SYMBOL, DECO)
    if ch in SHORT_DECORATIONS:
        if last in (SHORT, SHORTS):
            return ("body", ctx, SHORTS)
        if last in AFTER_GRACE and ch != "~":
            return ("body", ctx, GRACE_DECO)
        return ("body", ctx, SHORT) if undecorated else None
    if ch == "!":
        return ("tok", "deco", "", ctx) if undecorated else None
    if ch == "z":
        return (
            ("tok", "rest", "", _after_event(ctx, False)) if undecorated or last == SHORT else None
        )
    if ch == "(":
        return ("tok", "paren", last, ctx) if undecorated or last in AFTER_GRACE else None
    if ch == " " and last == GRACE:  # "{g} A"
        return ("body", ctx, GRACE_SPACE)
    if ch in "{[":
        if last in FREE_CODES or last in (PRE, SYMBOL):
            return ("grace", ctx, 0) if ch == "{" else ("chord", _after_event(ctx, True), 0, None)
        return None
    if ch == '"':
        return ("tok", "symbol", "root", ctx) if last in FREE_CODES or last == PRE else None
    if last not in FREE_CODES:  # a prefix waits for its note
        return None
    if ch == "\n":
        return ("line", ctx) if last not in (START, SPACE) and tuplet == 0 else None
    if ch == " ":
        return ("body", ctx, SPACE) if last not in (START, SPACE) else None
    if ch == ")":
        ok = depth and last in NOTE_LIKE
        return ("body", (depth - 1, has_note, tuplet, repeat), CLOSE) if ok else None
    if ch in "<>":
        return ("tok", "broken", ch, ctx) if last == PLAIN and tuplet == 0 else None
    if ch in "|:" and last != BAR and tuplet == 0:
        return ("tok", "bar", ch, ctx)
    return None


def _note_start(where: tuple, ch: str):
    """A note begins. A note outside tuplets, chords and grace groups, without an accidental,
    may be tied: it carries its spelling (letter and octave marks) for the tied note to repeat."""
    if ch in ACCIDENTALS:
        return ("note", ch, where, None)
    if ch not in NOTE_LETTERS:
        return None
    can_tie = where[0] == "body" and where[2] == FREE
    return ("note", ("marks", ch.isupper(), 0), where, ch if can_tie else None)


def _in_note(state, ch: str):
    _, part, where, spelling = state
    if part in ("^", "_") and ch == part:
        return ("note", part * 2, where, None)
    if isinstance(part, str):  # after an accidental: the letter
        return ("note", ("marks", ch.isupper(), 0), where, None) if ch in NOTE_LETTERS else None
    if part[0] == "marks":
        _, upper, marks = part
        if ch == ("," if upper else "'") and marks < MAX_OCTAVE_MARKS:
            return ("note", ("marks", upper, marks + 1), where, spelling and spelling + ch)
        length = ""
    else:
        length = part[1]
    if _LENGTHS.extends(length, ch) and where[0] != "grace":  # grace notes take no length
        return ("note", ("len", length + ch), where, spelling)
    if length not in LENGTHS:
        return None
    kind, ctx = where[0], where[1]
    if kind == "chord":  # a chord lasts as long as its first note, times its own length
        first = where[3] if where[3] is not None else length
        return _in_chord(("chord", ctx, where[2] + 1, first), ch)
    if kind == "grace":
        return _in_grace(("grace", ctx, where[2] + 1), ch) if not length else None
    if where[2] == BROKEN_PAIR and length:  # a broken rhythm joins notes of the unit length
        return None
    if ch == "-" and spelling:
        return ("tie", spelling, "", ctx)
    return _body(ctx, PLAIN if length == "" and where[2] == FREE else NOTE, ch)


def _after_event(ctx: tuple, is_note: bool) -> tuple:
    depth, has_note, tuplet, repeat = ctx
    return (depth, has_note or is_note, max(0, tuplet - 1), repeat)


def _in_tie(state, ch: str):
    """Between `A-` and its `A`: nothing, or a bar line `|` with a space either side or not."""
    _, spelling, between, ctx = state
    if ch == spelling[0]:
        return _in_tied(("tied", spelling, 1, _after_event(ctx, True)))
    if ch == " " and not between.endswith(" "):
        return ("tie", spelling, between + " ", ctx)
    if ch == "|" and "|" not in between:
        return ("tie", spelling, between + "|", ctx)
    return None


def _in_tied(state, ch: str | None = None):
    """The tied note, spelled as the note before the tie; then its length as any note's."""
    _, spelling, matched, ctx = state
    if ch is None and matched < len(spelling):
        return state
    if matched < len(spelling):
        return ("tied", spelling, matched + 1, ctx) if ch == spelling[matched] else None
    note = ("note", ("len", ""), ("body", ctx, FREE), spelling)
    return note if ch is None else _in_note(note, ch)


def _in_chord(state, ch: str):
    _, ctx, count, first = state
    if ch in NOTE_LETTERS or ch in ACCIDENTALS:
        return _note_start(("chord", ctx, count, first), ch) if count < MAX_CHORD_NOTES else None
    if ch == "]" and count:
        return ("tok", CLOSE_CHORD + first, "", ctx)
    return None


def _in_grace(state, ch: str):
    _, ctx, notes = state
    if ch in NOTE_LETTERS or ch in ACCIDENTALS:
        return _note_start(("grace", ctx, notes), ch) if notes < MAX_GRACE_NOTES else None
    if ch == "}" and notes:
        return ("body", ctx, GRACE)
    return None


def _in_token(state, ch: str):
    """Continue the token in progress, or end it and start the next with `ch`."""
    _, kind, part, ctx = state
    depth, has_note, tuplet, repeat = ctx
    if kind == "rest" or kind.startswith(CLOSE_CHORD):
        if _LENGTHS.extends(part, ch):
            return ("tok", kind, part + ch, ctx)
        if part not in LENGTHS:
            return None
        return _body(ctx, REST if kind == "rest" else CHORD, ch)
    if kind == "paren":  # "(" opens a slur, "(3" is a tuplet; `part` is what came before
        if ch == str(TUPLET_NOTES):
            ok = (part in FREE_CODES or part in (PRE, SYMBOL)) and tuplet == 0  # '"D"(3ABc'
            after = SYMBOL if part == SYMBOL else PRE
            return ("body", (depth, has_note, TUPLET_NOTES, repeat), after) if ok else None
        if depth >= MAX_SLUR_DEPTH:
            return None
        after = PRE if part in FREE_CODES else part  # a slur keeps what came before it
        return _body((depth + 1, has_note, tuplet, repeat), after, ch)
    if kind == "broken":
        if ch == part[0] and len(part) < 3:
            return ("tok", kind, part + ch, ctx)
        return _body(ctx, BROKEN, ch)
    if kind == "bar":
        return _in_bar(part, ctx, ch)
    if kind == "symbol":
        return _in_symbol(part, ctx, ch)
    if kind == "deco":
        if ch == "!" and part in DECORATIONS:
            return ("body", ctx, DECO)
        return ("tok", kind, part + ch, ctx) if _DECORATIONS.extends(part, ch) else None
    raise AssertionError(kind)


_BAR_NEXT = {  # bar lines as the lexer reads them greedily: only canonical spellings
    "|": {"|": "||", "]": "|]", ":": "|:", "1": "|1"},
    ":": {"|": ":|"},
    ":|": {"|": ":||", "2": ":|2"},
    ":||": {":": ":||:"},
}
_REPEATS = {  # bar line: {repeat state before: repeat state after}
    "|": {r: r for r in range(5)},
    "||": {NO_REPEAT: NO_REPEAT, CLOSED: NO_REPEAT, SECOND_ENDING: NO_REPEAT, REPEAT: REPEAT},
    "|:": {NO_REPEAT: REPEAT, CLOSED: REPEAT, SECOND_ENDING: REPEAT},
    "|1": {NO_REPEAT: FIRST_ENDING, REPEAT: FIRST_ENDING},
    ":|": {r: CLOSED for r in range(5)},
    ":|2": {FIRST_ENDING: SECOND_ENDING},
    ":||:": {r: REPEAT for r in range(5)},
}
_REPEATS["|]"] = _REPEATS["||"]


def _in_bar(part: str, ctx: tuple, ch: str):
    following = _BAR_NEXT.get(part, {})
    if ch in following:
        return ("tok", "bar", following[ch], ctx)
    depth, has_note, tuplet, repeat = ctx
    after = _REPEATS.get(part, {}).get(repeat)
    if after is None:
        return None
    return _body((depth, has_note, tuplet, after), BAR, ch)


def _in_symbol(part: str, ctx: tuple, ch: str):
    """`"Am7/G"`: a root, one of CHORD_QUALITIES, and an optional bass note."""
    done = ("body", ctx, SYMBOL)
    if part == "root":
        return ("tok", "symbol", "acc", ctx) if ch in "ABCDEFG" else None
    if part in ("acc", "bass-acc") and ch in "#b":
        return ("tok", "symbol", "quality:" if part == "acc" else "end", ctx)
    if part == "acc":
        part = "quality:"
    if part.startswith("quality:"):
        quality = part[len("quality:") :]
        if _QUALITIES.extends(quality, ch):
            return ("tok", "symbol", part + ch, ctx)
        if quality not in CHORD_QUALITIES:
            return None
        if ch == "/":
            return ("tok", "symbol", "bass", ctx)
        return done if ch == '"' else None
    if part == "bass":
        return ("tok", "symbol", "bass-acc", ctx) if ch in "ABCDEFG" else None
    return done if ch == '"' else None
