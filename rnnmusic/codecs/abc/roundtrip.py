"""The round trip of real tunes, judged by other readers: music21 reads each source tune and the
codec's `.abc` for it, and the notes (pitch, duration, order) must agree; abc2midi's errors on the
output must not outnumber those on the source. Used by tests/test_abc_roundtrip.py and
benchmarks/abc_roundtrip.py."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnmusic.codecs.abc.clients import abc2midi_errors, first_difference, music21_notes
from rnnmusic.codecs.abc.codec import AbcCodec
from rnnmusic.codecs.abc.normalise import SkippedTune, tune_from_raw
from rnnmusic.codecs.abc.reader import read_abc_text, split_tunes

VERDICTS = ("same", "different", "source unreadable", "output unreadable", "skipped")


@dataclass
class TuneResult:
    file: str
    tune: str
    verdict: str  # one of VERDICTS
    detail: str = ""
    source_abc2midi_errors: int = -1  # -1: not checked
    output_abc2midi_errors: int = -1


def in_sample(path: str | Path, index: int, every: int) -> bool:
    """A deterministic one-in-`every` sample of the tunes, spread over every collection."""
    digest = hashlib.blake2b(f"{Path(path).name}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % every == 0


def check_file(path: str | Path, with_abc2midi: bool = True, every: int = 1) -> list[TuneResult]:
    """Every (sampled) tune of an ABC file through the codec and the readers."""
    codec = AbcCodec()
    preamble, tunes = split_tunes(read_abc_text(path))
    results = []
    for index, raw in enumerate(tunes):
        if not in_sample(path, index, every):
            continue
        result = TuneResult(str(path).split("corpus/")[-1], raw.label, "same")
        results.append(result)
        try:
            tune = tune_from_raw(raw, preamble)
        except SkippedTune as skip:
            result.verdict, result.detail = "skipped", skip.reason
            continue
        output = codec.decode(tune.text).abc()
        if with_abc2midi:
            result.source_abc2midi_errors = len(abc2midi_errors(raw.source))
            result.output_abc2midi_errors = len(abc2midi_errors(output))
        try:
            before = music21_notes(raw.source)
        except Exception as exc:  # music21 raises many types on tunes it cannot read
            result.verdict, result.detail = "source unreadable", _error(exc)
            continue
        try:
            after = music21_notes(output)
        except Exception as exc:
            result.verdict, result.detail = "output unreadable", _error(exc)
            continue
        if before != after:
            result.verdict, result.detail = "different", explain(raw.source, before, after)
    return results


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


# Known ways music21 misreads a *source* tune: a fix of the source text (None where the quirk
# does not occur) and the reason. A difference that disappears once the source is fixed so is
# music21's misreading, not a change by the codec.
def _sub(pattern: str, replacement: str, flags: int = 0) -> Callable[[str], str | None]:
    compiled = re.compile(pattern, flags)
    return lambda text: compiled.sub(replacement, text) if compiled.search(text) else None


def _drop_header_text(text: str) -> str | None:
    """Lines of prose between X: and K: (not fields, not comments)."""
    lines = text.split("\n")
    end = next((i for i, line in enumerate(lines) if line.startswith("K:")), 0)
    prose = [
        i for i in range(1, end) if lines[i].strip() and not re.match(r"[A-Za-z+]:|%", lines[i])
    ]
    return "\n".join(line for i, line in enumerate(lines) if i not in prose) if prose else None


MUSIC21_QUIRKS: list[tuple[Callable[[str], str | None], str]] = [
    (
        _sub(r"(?<![!+\"])H(?=[\^_=A-Ga-gz\[(])", "!fermata!"),
        "music21 drops the note after an H (fermata) in the source",
    ),
    (
        _sub(r'"[<>][^"]*"', ""),
        'music21 drops the note after a ">" or "<" annotation in the source',
    ),
    (
        _sub(r"^(K:.*?)\s+(?:bass|alto|tenor|clef=\S+|[+-]8va|[+-]8vb)\b", r"\1", re.MULTILINE),
        "music21 moves notes an octave or two for the K: field's clef, which abc2midi and "
        "ABC 2.1 do not (the codec drops clefs)",
    ),
    (
        _sub(r"^K: ?H\b", "K:B", re.MULTILINE),
        "music21 does not know the German key name H (B), used by the Essen songs",
    ),
    (_drop_header_text, "music21 reads a line of prose in the header as notes"),
    (_sub(r"(?<![|:])::(?![|:])", ":||:"), 'music21 drops the note before a bare "::"'),
    (
        _sub(r"\+((?:[\^_=]*[A-Ga-g][,']*[0-9/]*)+)\+", r"[\1]"),
        "music21 reads an ABC 1.6 chord +CE+ as single notes",
    ),
    (
        _sub(r"([>]+|[<]+)\s*\(", r"\1"),
        'music21 ignores a broken rhythm followed by a slur "(" (here one that never closes)',
    ),
    (
        lambda text: (
            _MANY_SLASHES.sub(_slashes_as_number, text) if _MANY_SLASHES.search(text) else None
        ),
        'music21 reads a length like "B3//" as 3/2 instead of 3/4',
    ),
]
_MANY_SLASHES = re.compile(r"(?<=[A-Ga-gz,'\]])(\d+)(//+)(?![\d/])")


def _slashes_as_number(match: re.Match) -> str:
    return f"{match.group(1)}/{2 ** len(match.group(2))}"


def explain(source: str, before, after) -> str:
    """Why music21 reads source and output differently: the known music21 quirks whose fixes,
    each kept while it brings the two readings closer, make them agree."""
    difference = first_difference(before, after)
    fixed, reasons, agreeing = source, [], _agreeing(before, after)
    pending = list(MUSIC21_QUIRKS)
    progress = True
    while progress:  # a fix may only help once an earlier difference is gone: try again
        progress = False
        for fix, reason in list(pending):
            candidate = fix(fixed)
            try:
                notes = music21_notes(candidate) if candidate is not None else None
            except Exception:
                notes = None
            if notes is None:
                continue
            if notes == after:
                return f"{'; '.join([*reasons, reason])} ({difference})"
            if _agreeing(notes, after) > agreeing:
                fixed, agreeing, progress = candidate, _agreeing(notes, after), True
                reasons.append(reason)
                pending.remove((fix, reason))
    return f"unexplained: {difference}"


def _agreeing(a: list, b: list) -> int:
    """How many notes two readings share before they part."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
