"""Where things are in a text file of ASCII tabs: the staves (runs of `e|--0--|` lines), the
PM / let ring lines and part names above them, and the Tempo / Time / Tuning lines; also the
tuning a staff's labels imply. `ascii_reader` turns what is found here into notes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rnnmusic.codecs.tab.model import NOTE_NAMES, STANDARD, TUNINGS, parse_pitches

MIN_STAFF, MAX_STAFF = 4, 8
TAB_CHARS = set("-|0123456789")
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}

_STAFF_LINE = re.compile(r"^(\s*)([A-Ga-g][#b]?)?(\s*)([|:\[\-0-9].*)$")
_TEMPO = re.compile(r"(?i)(?:tempo|bpm)\s*[:=]?\s*(\d{2,3})|(\d{2,3})\s*bpm")
_TIME = re.compile(r"(?i)\btime(?:\s*signature)?\s*[:=]?\s*(\d{1,2})\s*/\s*(\d{1,2})")
_TUNING = re.compile(r"(?i)^\s*tuning\s*[:=]?\s*(.+)$")
_OWN_GRID = re.compile(
    r"(?i)grid:\s*1/(\d+)\s+note,\s*(\d+)\s+columns? per step(,\s*one more where a fret has)?"
)
_PART_NAME = re.compile(r"(?i)\b(guitar|gtr|git|bass|uke|ukulele|banjo)\b\.?\s*(\d*)")
_SPAN = re.compile(r"(?i)(p\.?\s?m\.?|let\s*ring)((?:[-._|~]| (?=[-._|]))*)")


@dataclass
class StaffLine:
    number: int  # 1-based line number in the file
    label: str | None
    content: str
    column: int  # where `content` starts in the raw line


@dataclass
class Staff:
    lines: list[StaffLine]  # top line (highest string) first
    spans: list[tuple[str, int, int]]  # ("pm" | "ring", first column, last column)
    name: str | None


@dataclass
class FileInfo:
    tempo: int | None = None
    time_signature: tuple[int, int] | None = None
    tuning: list[int] | None = None  # pitches, or pitch classes if no octaves were given
    tuning_has_octaves: bool = False
    own_grid: tuple[int, int] | None = None  # (grid, columns per step) from our own writer
    wide_frets: bool = False  # … whose steps with a two-digit fret are one column wider


# -- finding staves -------------------------------------------------------------------------


def _staff_line(number: int, raw: str) -> StaffLine | None:
    match = _STAFF_LINE.match(raw.rstrip())
    if not match:
        return None
    indent, label, gap, content = match.groups()
    content = _cut_comment(content)
    body = content.replace(" ", "")
    dashes = body.count("-")
    if dashes < (1 if "|" in body else 2) or sum(ch in TAB_CHARS for ch in body) < 0.6 * len(body):
        return None
    column = len(indent) + len(label or "") + len(gap)
    return StaffLine(number, label, content.replace(" ", "-"), column)


def _cut_comment(content: str) -> str:
    """Drop text after a staff line (`|---|  x4`, `| (repeat)`): it follows a space and is not
    tab characters."""
    for match in re.finditer(r"\s+", content):
        rest = content[match.end() :]
        if rest and not set(rest) <= TAB_CHARS | {" "}:
            return content[: match.start()]
    return content


def find_staves(lines: list[str], skipped: list[str]) -> list[Staff]:
    staves: list[Staff] = []
    block: list[StaffLine] = []
    for number, raw in enumerate([*lines, ""], start=1):
        found = _staff_line(number, raw) if number <= len(lines) else None
        if found is not None:
            block.append(found)
            continue
        if block:
            staves.extend(_block_to_staves(block, lines, skipped))
            block = []
    return staves


def _block_to_staves(block: list[StaffLine], lines: list[str], skipped: list[str]) -> list[Staff]:
    first = block[0].number
    if len(block) < MIN_STAFF:
        if len(block) > 1:  # a lone dashed line is decoration; two or three are a broken staff
            skipped.append(f"line {first}: {len(block)} tab lines, too few for a staff")
        return []
    if len(block) > MAX_STAFF:
        if len(block) % 6 == 0:
            chunks = [block[i : i + 6] for i in range(0, len(block), 6)]
        else:
            skipped.append(f"line {first}: {len(block)} tab lines in a row, not one staff")
            return []
    else:
        chunks = [block]
    staves = []
    for chunk in chunks:
        spans, name = _above(lines, chunk[0].number)
        staves.append(Staff(chunk, spans, name))
    return staves


def _above(lines: list[str], first: int) -> tuple[list[tuple[str, int, int]], str | None]:
    """PM / let ring spans and the part name from the few lines above a staff."""
    spans: list[tuple[str, int, int]] = []
    name = None
    index = first - 2  # 0-based index of the line just above
    looked = 0
    while index >= 0 and looked < 3:
        raw = lines[index]
        index -= 1
        if not raw.strip():
            break
        found = list(_SPAN.finditer(raw))
        if found and not spans:
            for m in found:
                kind = "pm" if m.group(1).lower().startswith("p") else "ring"
                spans.append((kind, m.start(), m.end() - 1))
            continue
        looked += 1
        named = _PART_NAME.search(raw)
        if named and len(raw.strip()) <= 40:
            name = f"{named.group(1).lower().replace('gtr', 'guitar')} {named.group(2)}".strip()
            break
    return spans, name


# -- header lines ---------------------------------------------------------------------------


def read_info(lines: list[str]) -> FileInfo:
    info = FileInfo()
    for raw in lines:
        if info.tempo is None and (m := _TEMPO.search(raw)):
            bpm = int(m.group(1) or m.group(2))
            if 20 <= bpm <= 400:
                info.tempo = bpm
        if info.time_signature is None and (m := _TIME.search(raw)):
            num, den = int(m.group(1)), int(m.group(2))
            if num >= 1 and den in (1, 2, 4, 8, 16, 32):
                info.time_signature = (num, den)
        if info.tuning is None and (m := _TUNING.match(raw)):
            _read_tuning(m.group(1), info)
        if info.own_grid is None and (m := _OWN_GRID.search(raw)):
            info.own_grid = (int(m.group(1)), int(m.group(2)))
            info.wide_frets = m.group(3) is not None
    return info


def _read_tuning(text: str, info: FileInfo) -> None:
    words = text.strip()
    lower = words.lower()
    if lower.startswith("drop d"):
        info.tuning, info.tuning_has_octaves = list(TUNINGS["drop-d"]), True
        return
    if lower.startswith(("standard", "e a d g b e")) and "(" not in lower[:9]:
        info.tuning, info.tuning_has_octaves = list(STANDARD), True
        return
    names = re.findall(r"[A-G][#b]?-?\d?", words.split("(")[0])
    if len(names) < MIN_STAFF:
        return
    with_octaves = parse_pitches("".join(names))
    if with_octaves is not None and all(n[-1].isdigit() for n in names):
        info.tuning, info.tuning_has_octaves = with_octaves, True
    else:
        info.tuning = [_pitch_class(n.rstrip("0123456789-")) for n in names]


def _pitch_class(name: str) -> int:
    name = name[0].upper() + name[1:]
    return NOTE_NAMES.index(_FLATS.get(name, name))


def tuning_for(labels: list[str | None], strings: int, info: FileInfo) -> tuple[int, ...]:
    """Pitches low string first: the file's Tuning line, else the staff's labels, else the
    usual tuning for that many strings; octaves are taken nearest to that usual tuning."""
    reference = {4: TUNINGS["bass"], 5: TUNINGS["bass5"], 7: TUNINGS["seven-string"]}.get(
        strings, STANDARD
    )
    if len(reference) != strings:  # eight strings: extend the seven-string tuning downwards
        reference = (
            tuple([reference[0] - 5 * i for i in range(strings - len(reference), 0, -1)])
            + reference
        )
    if info.tuning is not None and len(info.tuning) == strings:
        if info.tuning_has_octaves:
            return tuple(info.tuning)
        classes = info.tuning
    elif all(labels):
        classes = [_pitch_class(label) for label in reversed(labels)]  # type: ignore[arg-type]
    else:
        return tuple(reference)
    return tuple(_nearest(pc, ref) for pc, ref in zip(classes, reference, strict=True))


def _nearest(pitch_class: int, reference: int) -> int:
    below = reference - (reference - pitch_class) % 12
    return below if reference - below <= below + 12 - reference else below + 12
