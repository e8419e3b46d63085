"""The round trip of real tunes, judged by other readers: music21 reads each source tune and the
codec's `.abc` for it, and the notes (pitch, duration, order) must agree; abc2midi's errors on the
output must not outnumber those on the source. Used by tests/test_abc_roundtrip.py and
benchmarks/abc_roundtrip.py."""

from __future__ import annotations

import hashlib
import re
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


# Known ways music21 misreads a *source* tune: (pattern, what fixes it, the reason). A difference
# that disappears once the source is fixed so is music21's misreading, not a change by the codec.
MUSIC21_QUIRKS = [
    (
        re.compile(r"(?<![A-Za-z\"!+])H(?=[\^_=A-Ga-gz\[(])"),
        "!fermata!",
        "music21 drops the note after an H (fermata) in the source",
    ),
    (
        re.compile(r'"[<>][^"]*"'),
        "",
        'music21 drops the note after a ">" or "<" annotation in the source',
    ),
    (
        re.compile(r"^(K:.*?)\s+(?:bass|alto|tenor|clef=\S+|[+-]8va|[+-]8vb)\b", re.MULTILINE),
        r"\1",
        "music21 moves notes an octave or two for the K: field's clef, which abc2midi and "
        "ABC 2.1 do not (the codec drops clefs)",
    ),
]


def explain(source: str, before, after) -> str:
    """Why music21 reads source and output differently: a known music21 quirk, or 'unexplained'."""
    difference = first_difference(before, after)
    fixed, reasons = source, []
    for pattern, replacement, reason in MUSIC21_QUIRKS:
        if pattern.search(fixed):
            fixed = pattern.sub(replacement, fixed)
            reasons.append(reason)
    if reasons:
        try:
            if music21_notes(fixed) == after:
                return f"{'; '.join(reasons)} ({difference})"
        except Exception:
            pass
    return f"unexplained: {difference}"
