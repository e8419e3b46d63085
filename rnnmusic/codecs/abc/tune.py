"""A tune in the codec's canonical form, and the one body-cleaning pass that both reading files
and decoding model output go through, so what the model sees and what it may write agree.

Canonical text (see codecs/abc/README.md):
    R:reel            (only when a known dance type was given)
    M:4/4
    L:1/8
    K:G
    body lines        (tokens in canonical spelling, single spaces, no blank lines)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rnnmusic.codecs.abc.alphabet import NOTE_LIKE, Token, bar_token, lex_line, token
from rnnmusic.codecs.abc.fields import Key, parse_key, parse_length, parse_meter

FIELD_LINE = re.compile(r"^([A-Za-z+]):(?![|:])(.*)$")


@dataclass
class Tune:
    meter: str
    length: str
    key: Key
    lines: list[list[Token]]
    rhythm: str | None = None

    @property
    def text(self) -> str:
        header = [f"R:{self.rhythm}"] if self.rhythm else []
        header += [f"M:{self.meter}", f"L:{self.length}", f"K:{self.key.text}"]
        return "\n".join(header + ["".join(t.text for t in line) for line in self.lines])

    @property
    def notes(self) -> int:
        return sum(t.kind == "note" for line in self.lines for t in line)

    @property
    def symbols(self) -> int:
        return sum(t.kind == "symbol" for line in self.lines for t in line)

    @property
    def events(self) -> int:
        """Notes and rests: a tune needs at least one to be music at all."""
        return sum(t.kind in ("note", "rest", "mrest") for line in self.lines for t in line)


def without_chord_symbols(tune: Tune) -> Tune:
    """The tune with its chord symbols taken out (lines left empty go)."""
    lines = [tidy_spaces([t for t in line if t.kind != "symbol"]) for line in tune.lines]
    return Tune(tune.meter, tune.length, tune.key, [line for line in lines if line], tune.rhythm)


@dataclass
class BodyIssues:
    """What cleaning a body changed. Reading files ignores most of it; decoding reports it."""

    stray: list[str] = field(default_factory=list)  # unreadable characters
    changes: list[str] = field(default_factory=list)  # readable things dropped or changed
    repairs: list[str] = field(default_factory=list)  # structure fixed (brackets, slurs, ties)
    voices: set[str] = field(default_factory=set)  # voice ids met in V: fields


def clean_body(lines: list[str]) -> tuple[list[list[Token]], BodyIssues]:
    """Tokenise body lines and make the token stream well formed: chords and grace groups
    closed and non-empty, slurs balanced, ties and broken rhythms only after a note."""
    issues = BodyIssues()
    lexed_lines = [_lex_body_line(line, issues) for line in lines]
    state = _Structure(issues)
    out = [state.line(tokens) for tokens in lexed_lines]
    state.finish(out)
    return [line for line in out if line], issues


def _lex_body_line(line: str, issues: BodyIssues) -> list[Token]:
    if line.startswith("%"):
        return []
    field_line = FIELD_LINE.match(line)
    if field_line:
        name, value = field_line.groups()
        if name == "V":
            words = value.split("%")[0].split()
            issues.voices.add(words[0] if words else "")
            return []
        if name in "KML":
            return _body_field_line(name, value, issues)
        issues.changes.append(f"dropped the {name}: line")
        return []
    line = _strip_comment(line)
    lexed = lex_line(line)
    issues.stray.extend(lexed.stray)
    issues.changes.extend(lexed.changes)
    issues.voices.update(lexed.voices)
    return lexed.tokens


def _body_field_line(name: str, value: str, issues: BodyIssues) -> list[Token]:
    """A key, meter or unit change on a line of its own (music21 reads these, not always the
    inline form) stays a field line."""
    parse = {"K": lambda v: k.text if (k := parse_key(v)) else None, "M": parse_meter}
    parsed = parse.get(name, parse_length)(value)
    if parsed is None:
        issues.changes.append(
            f"dropped the field line {name}:{value.strip()[:12]} (not a valid value)"
        )
        return []
    return [token("fieldline", f"{name}:{parsed}")]


def _strip_comment(line: str) -> str:
    cut = line.find("%")
    while cut > 0 and line[cut - 1] == "\\":
        cut = line.find("%", cut + 1)
    return line if cut < 0 else line[:cut]


class _Structure:
    """The nesting rules of the body, applied token by token across lines."""

    def __init__(self, issues: BodyIssues):
        self.issues = issues
        self.open_slurs: list[Token] = []  # each unmatched "(" (tokens are distinct objects)
        self.previous: list[Token] = []  # the last line written, for endings that open a line

    def repair(self, text: str) -> None:
        self.issues.repairs.append(text)

    def line(self, tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        group: str | None = None  # "chord" or "grace" while inside one
        group_start = 0
        for tok in tokens:
            if group is None and _opens_with_bracket(tok) and _last(out) == "shortdeco":
                while _last(out) == "shortdeco":
                    out.pop()  # "u[M:6/8]": abc2midi reads "[" after a decoration as a chord
                self.issues.changes.append("dropped a decoration before a '[' that is no chord")
            if group is not None:
                if tok.kind == "note" or (group == "chord" and _fits_chord(tok, out)):
                    _append(out, tok)
                    continue
                if tok.kind == "space":
                    continue
                if group == "chord" and tok.kind == "slur_open":  # "[E4(e4]": the slur starts
                    out.insert(group_start, tok)  # at the chord
                    group_start += 1
                    self.open_slurs.append(tok)
                    continue
                if group == "grace" and tok.kind in ("deco", "shortdeco"):
                    self.repair("dropped a decoration inside grace notes")
                    continue
                closer = "chord_close" if group == "chord" else "grace_close"
                if tok.kind == closer:
                    self._close_group(out, group_start, tok)
                    group = None
                    continue
                self.repair(f"closed an unclosed {group}")
                self._close_group(out, group_start, token(closer, "]" if group == "chord" else "}"))
                group = None
            if tok.kind in ("chord_open", "grace_open"):
                group, group_start = tok.kind.split("_")[0], len(out)
                out.append(tok)
            elif tok.kind in ("chord_close", "grace_close"):
                self.repair(f"dropped a stray {tok.text[0]!r}")
            elif tok.kind == "slur_open":
                self.open_slurs.append(tok)
                out.append(tok)
            elif tok.kind == "slur_close":
                if self.open_slurs:
                    self.open_slurs.pop()
                    out.append(tok)
                else:
                    self.repair("dropped a ')' that closes no slur")
            elif tok.kind == "tie":
                while out and out[-1].kind == "space":
                    out.pop()  # "G4 - G8": the tie belongs to the note before it
                if _last(out) == "broken":
                    out.pop()  # "A>-G": music21 reads the tie, not the broken rhythm
                    self.repair("dropped a broken rhythm followed by a tie")
                if _last(out) in ("note", "chord_close"):
                    out.append(tok)
                else:
                    self.repair("dropped a tie '-' that follows no note")
            elif tok.kind == "ending":
                self._attach_ending(out, tok)
            elif tok.kind == "bar" and out and out[-1].kind == "bar" and out[-1].text[-1] in "|]:":
                out[-1] = bar_token(out[-1].text + tok.text)  # ":|" "|]" read as one ":||]"
            elif tok.kind == "space":
                if out and out[-1].kind != "space":
                    out.append(tok)
            else:
                _append(out, tok)
        if group is not None:
            self.repair(f"closed an unclosed {group}")
            closer = token(f"{group}_close", "]" if group == "chord" else "}")
            self._close_group(out, group_start, closer)
        out = tidy_spaces(out)
        if out:
            self.previous = out
        return out

    def _attach_ending(self, out: list[Token], ending: Token) -> None:
        """Endings are written on their bar line ("|1", ":|2"), also when they open the next
        line. Elsewhere only "[1…" and "[2…" stay: music21 cannot read "[3" on its own, and
        abc2midi rejects endings on other bar lines ("||2")."""
        spaces = []
        while out and out[-1].kind == "space":
            spaces.append(out.pop())
        target = out if out else self.previous
        if target and target[-1].kind == "bar" and target[-1].text in ("|", ":|"):
            target[-1] = token("bar", target[-1].text + ending.text[1:])
        elif ending.text[1] in "12":
            out.extend(spaces)
            out.append(ending)
        else:
            out.extend(spaces)
            self.repair(f"dropped the ending {ending.text!r} that follows no bar line")

    def _close_group(self, out: list[Token], start: int, closer: Token) -> None:
        if any(t.kind == "note" for t in out[start + 1 :]):
            out.append(closer)
            return
        self.repair(
            "dropped an empty chord"
            if closer.kind == "chord_close"
            else "dropped empty grace notes"
        )
        del out[start:]

    def finish(self, lines: list[list[Token]]) -> None:
        """Across lines: slurs still open at the end of the tune lose their '(', and a broken
        rhythm needs a note before and after it, also across a line break ("A2 A>" ⏎ "d")."""
        dropped = {id(tok) for tok in self.open_slurs}
        for _ in self.open_slurs:
            self.repair("dropped a '(' whose slur never closes")
        stream = [tok for line in lines for tok in line]
        for i, tok in enumerate(stream):
            if tok.kind != "broken":
                continue
            before = next((t for t in reversed(stream[:i]) if t.kind not in _BEFORE_BROKEN), None)
            after = next((t for t in stream[i + 1 :] if t.kind not in _AFTER_BROKEN), None)
            if before is None or before.kind not in NOTE_LIKE or id(before) in dropped:
                self.repair(f"dropped a broken rhythm {tok.text!r} that follows no note")
                dropped.add(id(tok))
            elif after is None or after.kind not in _NOTE_STARTS:
                self.repair(f"dropped a broken rhythm {tok.text!r} that leads to no note")
                dropped.add(id(tok))
        if dropped:
            for line in lines:
                kept: list[Token] = []
                for tok in line:
                    if id(tok) not in dropped:
                        _append(kept, tok)  # "L(!fermata!": the '(' goes, the order is redone
                line[:] = tidy_spaces(kept)
        self.open_slurs = []


def _append(out: list[Token], tok: Token) -> None:
    """Long decorations go before short ones ("!fermata!~g"): abc2midi rejects "~!fermata!g"."""
    at = len(out)
    if tok.kind == "deco":
        while at and out[at - 1].kind == "shortdeco":
            at -= 1
    out.insert(at, tok)


def _fits_chord(tok: Token, out: list[Token]) -> bool:
    """Inside a chord: decorations before notes ("[.Af]"), ties after them ("[C-E]")."""
    return tok.kind in ("deco", "shortdeco") or (tok.kind == "tie" and _last(out) == "note")


_BEFORE_BROKEN = frozenset({"space", "slur_close"})  # "(AB)>c", "B > A"
_AFTER_BROKEN = frozenset({"space", "slur_open", "slur_close", "deco", "shortdeco", "symbol"})
_NOTE_STARTS = frozenset({"note", "rest", "chord_open", "grace_open", "tuplet"})


def tidy_spaces(tokens: list[Token]) -> list[Token]:
    """Single spaces between tokens, none at either end of a line."""
    out: list[Token] = []
    for tok in tokens:
        if tok.kind == "space" and (not out or out[-1].kind == "space"):
            continue
        out.append(tok)
    if out and out[-1].kind == "space":
        out.pop()
    return out


def _last(out: list[Token]) -> str | None:
    return out[-1].kind if out else None


def _opens_with_bracket(tok: Token) -> bool:
    """An inline field, an ending or a `[|` bar line: tokens that start with "[" but are no
    chord."""
    return tok.kind in ("field", "ending") or (tok.kind == "bar" and tok.text.startswith("["))
