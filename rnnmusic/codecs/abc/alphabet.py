"""The tokens of an ABC tune body and a lexer that reads them from one line of text.

The lexer is deliberately regular (one regular expression tried at each position): whatever it
cannot read is a stray character, which the caller drops. Every token knows its canonical text,
so writing tokens back out is the normalisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from rnnmusic.codecs.abc.fields import ACCIDENTAL_TEXT, ACCIDENTAL_VALUE, LETTERS

MIN_OCTAVE, MAX_OCTAVE = -5, 4  # C,,,,, (MIDI 0) … b'''' — keeps every pitch inside MIDI
MAX_NUMERATOR, MAX_DENOMINATOR = 64, 64

# Decorations of the ABC 2.1 standard; anything else between !…! is dropped.
DECORATIONS = frozenset(
    """trill trill( trill) lowermordent uppermordent mordent pralltriller roll turn turnx
    invertedturn invertedturnx arpeggio > accent emphasis fermata invertedfermata tenuto
    0 1 2 3 4 5 + plus snap slide wedge upbow downbow open thumb breath
    pppp ppp pp p mp mf f ff fff ffff sfz crescendo( crescendo) <( <) diminuendo( diminuendo)
    >( >) segno coda D.S. D.C. dacoda dacapo fine shortphrase mediumphrase longphrase""".split()  # noqa: SIM905
)
SHORT_DECORATIONS = ".~HLMOPSTuv"
CHORD_SYMBOL = re.compile(
    r"[A-G][#b]?(?:maj|min|dim|aug|sus|add|m|M|\+|o)?\d{0,2}(?:(?:sus|add|b|#)\d{1,2})*"
    r"(?:/[A-Ga-g][#b]?)?"
)
KEPT_INLINE_FIELDS = "KML"


@dataclass(frozen=True)
class Token:
    kind: str  # see the kinds below
    text: str  # canonical text


@dataclass(frozen=True)
class Note(Token):
    """A pitch: `letter` upper-case, octave 0 = the octave of middle C (`C`), 1 = `c`."""

    letter: str = "C"
    octave: int = 0
    accidental: int | None = None  # None: none written; 0: natural
    length: Fraction = Fraction(1)

    @staticmethod
    def make(letter: str, octave: int, accidental: int | None, length: Fraction) -> Note:
        acc = "" if accidental is None else ACCIDENTAL_TEXT[accidental]
        pitch = letter.lower() + "'" * (octave - 1) if octave >= 1 else letter + "," * -octave
        return Note("note", acc + pitch + length_text(length), letter, octave, accidental, length)

    @property
    def diatonic(self) -> int:
        return 7 * self.octave + LETTERS.index(self.letter)


def length_text(length: Fraction) -> str:
    """Canonical multiplier: `` for 1, `2`, `/` for 1/2, `/4`, `3/2`."""
    num, den = length.numerator, length.denominator
    if den == 1:
        return "" if num == 1 else str(num)
    if num == 1:
        return "/" if den == 2 else f"/{den}"
    return f"{num}/{den}"


def token(kind: str, text: str) -> Token:
    return Token(kind, text)


def with_length(tok: Token, length: Fraction) -> Token:
    """A rest or chord-close with another length (notes use Note.make)."""
    base = tok.text.rstrip("0123456789/")
    return replace(tok, text=base + length_text(length))


# Kinds: note rest mrest chord_open chord_close grace_open grace_close bar ending tuplet
#        slur_open slur_close tie broken deco symbol field space
_LEXER = re.compile(
    r"""
    (?P<field>\[(?P<fname>[A-Za-z]):(?P<fvalue>[^\]\n]*)\])
  | (?P<bar>(?:\[\|\]|:*\[\||:*\|+\]|:*\|+:*|::+)(?P<barend>\d+(?:[,-]\d+)*)?)
  | (?P<ending>\[(?P<endnum>\d+(?:[,-]\d+)*))
  | (?P<note>(?P<acc>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<oct>[',]*)(?P<len>\d*/*\d*))
  | (?P<rest>(?P<rkind>[zx])(?P<rlen>\d*/*\d*))
  | (?P<mrest>Z(?P<mcount>\d*))
  | (?P<chord_open>\[)
  | (?P<chord_close>\](?P<clen>\d*/*\d*))
  | (?P<grace_open>\{/?)
  | (?P<grace_close>\})
  | (?P<tuplet>\((?P<tp>[2-9])(?::(?P<tq>[2-9]?))?(?::(?P<tr>[2-9]?))?)
  | (?P<slur_open>\()
  | (?P<slur_close>\))
  | (?P<tie>-)
  | (?P<broken>>{1,3}|<{1,3})
  | (?P<deco>!(?P<dname>[^!\s]{1,20})!|\+(?P<dname2>[^+\s]{1,20})\+)
  | (?P<shortdeco>[.~HLMOPSTuv])
  | (?P<symbol>"(?P<stext>[^"\n]*)"?)
  | (?P<space>[ \t]+)
    """,
    re.VERBOSE,
)


@dataclass
class Lexed:
    tokens: list[Token]
    stray: list[str]  # characters the lexer could not read (dropped)
    changes: list[str]  # one sentence per thing dropped or changed, for decode's repairs
    voices: list[str]  # voice ids of [V:] fields (multi-voice tunes are not kept)


def lex_line(line: str) -> Lexed:
    """Tokens of one body line. What is not valid ends up in `stray` or `changes`."""
    out = Lexed([], [], [], [])
    pos = 0
    while pos < len(line):
        match = _LEXER.match(line, pos)
        if match is not None and match.lastgroup == "deco" and "|" in match.group():
            match = None  # old-style "!" line breaks around music, not a decoration
        if match is not None and match.group("dname2") and _old_style_chord(match, out):
            pos = match.end()
            continue
        if match is None:
            out.stray.append(line[pos])
            pos += 1
            continue
        pos = match.end()
        tok = _token(match, out)
        if tok is not None:
            out.tokens.append(tok)
    return out


def _old_style_chord(match: re.Match, out: Lexed) -> bool:
    """ABC 1.6 chords `+CEG+`: read as `[CEG]` when everything between the plus signs is notes."""
    inner = lex_line(match.group("dname2"))
    if inner.stray or not inner.tokens or any(t.kind != "note" for t in inner.tokens):
        return False
    out.tokens += [token("chord_open", "["), *inner.tokens, token("chord_close", "]")]
    return True


def _length(written: str, what: str, out: Lexed) -> Fraction:
    """A note's or rest's written length, or the nearest one the codec writes (noted)."""
    length = parse_length(written)
    if length is None:
        length = clamp_length(written)
        out.changes.append(f"changed the {what} length {written!r} to {length_text(length)!r}")
    return length


def _token(m: re.Match, out: Lexed) -> Token | None:
    kind = m.lastgroup  # the outermost group of each alternative closes last
    if kind == "field":
        return _field(m.group("fname"), m.group("fvalue"), out)
    if kind == "bar":
        return _bar(m.group("bar"), m.group("barend"))
    if kind == "ending":
        return token("ending", "[" + m.group("endnum"))
    if kind == "note":
        length = _length(m.group("len"), "note", out)
        octave = (1 if m.group("letter").islower() else 0) + m.group("oct").count("'")
        octave -= m.group("oct").count(",")
        if not MIN_OCTAVE <= octave <= MAX_OCTAVE:
            out.changes.append(f"moved {m.group('note')[:12]!r} into the octaves the codec writes")
            octave = max(MIN_OCTAVE, min(MAX_OCTAVE, octave))
        acc = ACCIDENTAL_VALUE[m.group("acc")] if m.group("acc") else None
        return Note.make(m.group("letter").upper(), octave, acc, length)
    if kind == "rest":
        length = _length(m.group("rlen"), "rest", out)
        return token("rest", m.group("rkind") + length_text(length))
    if kind == "mrest":
        count = int(m.group("mcount")[:3] or 1)
        if not 1 <= count <= MAX_NUMERATOR:
            out.changes.append(f"limited the multi-bar rest {m.group('mrest')[:8]!r} to 1–64 bars")
            count = max(1, min(MAX_NUMERATOR, count))
        return token("mrest", "Z" + (str(count) if count > 1 else ""))
    if kind == "chord_close":
        length = parse_length(m.group("clen"))
        if length is None:
            length = clamp_length(m.group("clen"))
            out.changes.append(
                f"changed the chord length {m.group('clen')!r} to {length_text(length)!r}"
            )
        return token("chord_close", "]" + length_text(length))
    if kind == "tuplet":
        return _tuplet(m.group("tp"), m.group("tq"), m.group("tr"))
    if kind == "deco":
        name = m.group("dname") or m.group("dname2")
        if name not in DECORATIONS:
            out.changes.append(f"dropped the unknown decoration {m.group('deco')}")
            return None
        return token("deco", f"!{name}!")
    if kind == "symbol":
        text = m.group("stext").strip()
        if not m.group("symbol").endswith('"') or len(m.group("symbol")) < 2:
            out.changes.append(f"dropped the unclosed quote {m.group('symbol')[:20]}")
            return None
        if not CHORD_SYMBOL.fullmatch(text):
            out.changes.append(f"dropped the annotation {m.group('symbol')[:20]}")
            return None
        return token("symbol", f'"{text}"')
    if kind == "shortdeco" and m.group() == "H":
        return token("deco", "!fermata!")  # music21 misreads "H" after a space
    if kind == "space":
        return token("space", " ")
    return token(kind, m.group(kind))


def _field(name: str, value: str, out: Lexed) -> Token | None:
    from rnnmusic.codecs.abc.fields import parse_key, parse_length, parse_meter

    if name == "V":
        out.voices.append(value.split()[0] if value.split() else "")
        return None
    if name not in KEPT_INLINE_FIELDS:
        out.changes.append(f"dropped the inline field [{name}:]")
        return None
    parsed = {
        "K": lambda v: k.text if (k := parse_key(v)) else None,
        "M": parse_meter,
        "L": parse_length,
    }[name](value)
    if parsed is None:
        out.changes.append(f"dropped the inline field [{name}:{value[:12]}] (not a valid value)")
        return None
    return token("field", f"[{name}:{parsed}]")


def bar_token(text: str) -> Token:
    """The canonical bar line for bar text such as `:||]` (also two bar lines written together)."""
    match = _LEXER.fullmatch(text)
    if match is None or match.lastgroup != "bar":
        return _bar(text, None)
    return _bar(match.group("bar"), match.group("barend"))


def _bar(text: str, ending: str | None) -> Token:
    """One canonical spelling per kind of bar line: | || |] [| |: :| ::, endings as |1 :|2."""
    core = text[: len(text) - len(ending)] if ending else text
    left, right = len(core) - len(core.lstrip(":")), len(core) - len(core.rstrip(":"))
    stem = core.strip(":")
    if left and right or (not stem and left):
        canonical = ":||:"  # music21 loses the note before "::", abc2midi trips on ":|:"
    elif left:
        canonical = ":|"
    elif right:
        canonical = "|:"
    elif stem == "[|]":  # the invisible bar line
        canonical = "|"
    elif stem in ("[|", "|]", "||"):
        canonical = stem
    elif stem.startswith("[") or stem.endswith("]"):
        canonical = "|]"
    elif len(stem) >= 2:
        canonical = "||"
    else:
        canonical = "|"
    return token("bar", canonical + (ending or ""))


def _tuplet(p: str, q: str | None, r: str | None) -> Token:
    text = "(" + p
    if q or r:
        text += ":" + (q or "")
        if r:
            text += ":" + r
    return token("tuplet", text)


_LENGTH_TEXT = re.compile(r"(\d*)(/*)(\d*)")


def parse_length(text: str) -> Fraction | None:
    """The multiplier of `A3/2`, `A/`, `A//`, `A/4`; None when out of range or malformed."""
    match = _LENGTH_TEXT.fullmatch(text)
    if not match:
        return None
    num_text, slashes, den_text = match.groups()
    if (den_text and not slashes) or len(num_text) > 3 or len(den_text) > 3 or len(slashes) > 7:
        return None
    num = int(num_text) if num_text else 1
    den = 2 ** (len(slashes) - 1) * (int(den_text) if den_text else 2) if slashes else 1
    if not 1 <= num <= MAX_NUMERATOR or not 1 <= den <= MAX_DENOMINATOR or den & (den - 1):
        return None
    return Fraction(num, den)


def clamp_length(text: str) -> Fraction:
    """The nearest valid multiplier to a malformed or extreme one (decode must not raise)."""
    match = _LENGTH_TEXT.fullmatch(text)
    if not match:
        return Fraction(1)
    num_text, slashes, den_text = match.groups()
    num = max(1, min(MAX_NUMERATOR, int(num_text[:4]) if num_text else 1))
    den = 1
    if slashes:
        den = 2 ** min(6, len(slashes) - 1)
        den *= int(den_text[:4]) if den_text else 2
    den = max(1, min(MAX_DENOMINATOR, den))
    den = 1 << (den.bit_length() - 1)  # round down to a power of two
    return Fraction(num, den)


NOTE_LIKE = frozenset({"note", "rest", "chord_close"})
