"""Raw tunes from files, and arbitrary text from the model, into canonical `Tune`s.

Reading files is lenient and quiet (titles, lyrics, comments and annotations are meant to go);
decoding is total and reports every change, so a clean sample is one the model wrote correctly.
"""

from __future__ import annotations

from collections import Counter

from rnnmusic.codecs.abc.alphabet import token
from rnnmusic.codecs.abc.fields import (
    DEFAULT_KEY,
    DEFAULT_LENGTH,
    DEFAULT_METER,
    default_length,
    parse_key,
    parse_length,
    parse_meter,
    parse_rhythm,
    salvage_meter,
)
from rnnmusic.codecs.abc.reader import RawTune
from rnnmusic.codecs.abc.tune import FIELD_LINE, Tune, clean_body

MAX_TUNE_CHARS = 100_000  # the longest tune in the built-in corpus has under 2,000
OVERLAY = "&"  # ABC 2.1 voice overlay: a second voice in the same bar


class SkippedTune(Exception):
    """A tune in a file that the codec leaves out, with the reason (one phrase)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def tune_from_raw(raw: RawTune, file_header: list[tuple[str, str]] = ()) -> Tune:
    """The canonical form of a tune read from a file, or SkippedTune."""
    fields: dict[str, str] = {}
    for name, value in raw.header:
        fields.setdefault(name, value)  # a field given twice: the first one counts
    for name, value in file_header:
        if name in "MLR":
            fields.setdefault(name, value)  # the file header's defaults (ABC 2.1, 2.2.2)
    if sum(len(line) + 1 for line in raw.body) > MAX_TUNE_CHARS:
        raise SkippedTune(f"tune longer than {MAX_TUNE_CHARS:,} characters")
    header_voices = {v.split()[0] for n, v in raw.header if n == "V" and v.split()}
    lines, issues = clean_body(raw.body)
    if len(header_voices | issues.voices) > 1:
        raise SkippedTune("multi-voice tune (V:)")
    if OVERLAY in issues.stray:
        raise SkippedTune("voice overlay (&), which the abc codec cannot keep as one voice")
    key = parse_key(raw.field("K") or "", lenient=True)
    if key is None or (key.special is None and abs(key.fifths) > 7):
        raise SkippedTune(f"key K:{raw.field('K')} not understood")
    meter = (parse_meter(fields["M"]) or salvage_meter(fields["M"])) if "M" in fields else "none"
    length = parse_length(fields.get("L", "")) or default_length(meter)
    tune = Tune(meter, length, key, lines, parse_rhythm(fields.get("R", "")))
    if tune.notes == 0:
        raise SkippedTune("no notes")
    return tune


def tune_from_text(text: str) -> tuple[Tune, list[str]]:
    """Decode: any string becomes a valid canonical tune plus the list of what was repaired."""
    repairs: list[str] = []
    if len(text) > MAX_TUNE_CHARS:
        text = text[:MAX_TUNE_CHARS]
        repairs.append(f"cut the text at {MAX_TUNE_CHARS:,} characters")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header: dict[str, str] = {}
    body_start = 0
    for i, line in enumerate(lines):
        match = FIELD_LINE.match(line)
        if not match:
            if line.strip():
                break
            body_start = i + 1
            continue
        name, value = match.groups()
        body_start = i + 1
        if name in header or name not in "RMLK":
            repairs.append(f"dropped the header field {line[:20]!r}")
        else:
            header[name] = value
        if name == "K":
            break
    rhythm = _header_value(header, "R", parse_rhythm, None, repairs)
    meter = _header_value(header, "M", parse_meter, DEFAULT_METER, repairs)
    length = _header_value(header, "L", parse_length, DEFAULT_LENGTH, repairs)
    key = _header_value(header, "K", parse_key, parse_key(DEFAULT_KEY), repairs)
    body, issues = clean_body(lines[body_start:])
    if OVERLAY in issues.stray:
        overlays = issues.stray.count(OVERLAY)
        repairs.append(f"dropped {overlays} voice overlay sign(s) '&' (the codec writes one voice)")
        issues.stray = [c for c in issues.stray if c != OVERLAY]
    if issues.stray:
        shown = "".join(dict.fromkeys(issues.stray))[:12]
        repairs.append(f"dropped {len(issues.stray)} stray character(s) {shown!r}")
    for what, count in Counter(issues.changes + issues.repairs).items():
        repairs.append(what + (f" ({count}×)" if count > 1 else ""))
    if issues.voices:
        repairs.append("dropped voice (V:) fields; all notes are read as one voice")
    tune = Tune(meter, length, key, body, rhythm)
    if tune.events == 0:
        tune.lines.append([token("rest", "z")])
        repairs.append("the tune had no notes or rests; wrote a rest")
    return tune, repairs


def _header_value(header, name, parse, default, repairs):
    if name not in header:
        if default is not None:
            shown = default.text if hasattr(default, "text") else default
            repairs.append(f"added the missing {name}:{shown}")
        return default
    value = parse(header[name])
    if value is None:
        if default is None:
            repairs.append(f"dropped {name}:{header[name].strip()[:20]} (not a known value)")
        else:
            shown = default.text if hasattr(default, "text") else default
            repairs.append(f"replaced {name}:{header[name].strip()[:20]} with {name}:{shown}")
        return default
    return value
