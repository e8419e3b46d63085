"""ASCII tabs as people post them: staves of `e|--0--|` lines among titles, chord names and
lyrics, read into notes on the grid.

What it understands: staves of four to eight lines with or without string labels (`e|`, `E|`,
`Eb|`, none), several staves per file and several instruments (a `Gtr 1:` or `Bass:` line above
a staff names its part; an unnamed staff continues the last part with as many strings), uneven
line lengths, one- and two-digit frets, bar lines and repeat marks (`|`, `||`, `|:`, `:|`),
techniques between or after notes (h p / \\ s b r ~ v x, `<12>` harmonics, `(7)` ghost notes),
`PM---` and `let ring---` lines above a staff, and `Tempo:`, `Time:`, `Tuning:` lines.

Rhythm comes from spacing: each bar is fitted to the time signature (4/4 unless the file says
otherwise) by finding the coarsest even division of its width that its notes sit on. Staves
without bar lines take their most common gap between notes as an eighth note. Files this
codec's own writer made (they say `Grid: 1/16 note, 2 columns per step`) read back exactly.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rnnmusic.codecs.tab.model import (
    BEND,
    BEND_RELEASE,
    DEFAULT_GRID,
    HARMONIC,
    LEGATO,
    MARK_PRIORITY,
    MAX_FRET,
    NO_MARK,
    NOTE_NAMES,
    PALM_MUTE,
    SLIDE,
    STANDARD,
    TUNINGS,
    VIBRATO,
    Tab,
    TabNote,
    parse_pitches,
    signature_fits,
    tab_from_notes,
)

MIN_STAFF, MAX_STAFF = 4, 8
PADDING = 3  # dashes after a bar line that are layout, not a rest
TAB_CHARS = set("-|0123456789")
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}

_STAFF_LINE = re.compile(r"^(\s*)([A-Ga-g][#b]?)?(\s*)([|:\[\-0-9].*)$")
_BAR_RUN = re.compile(r":?\|+:?")
_TEMPO = re.compile(r"(?i)(?:tempo|bpm)\s*[:=]?\s*(\d{2,3})|(\d{2,3})\s*bpm")
_TIME = re.compile(r"(?i)\btime(?:\s*signature)?\s*[:=]?\s*(\d{1,2})\s*/\s*(\d{1,2})")
_TUNING = re.compile(r"(?i)^\s*tuning\s*[:=]?\s*(.+)$")
_OWN_GRID = re.compile(r"(?i)grid:\s*1/(\d+)\s+note,\s*(\d+)\s+columns per step")
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
class Part:
    name: str | None
    strings: int
    labels: list[str | None]
    notes: list[TabNote] = field(default_factory=list)
    bars: list[int] = field(default_factory=list)

    @property
    def length(self) -> int:
        return sum(self.bars)


@dataclass
class FileInfo:
    tempo: int | None = None
    time_signature: tuple[int, int] | None = None
    tuning: list[int] | None = None  # pitches, or pitch classes if no octaves were given
    tuning_has_octaves: bool = False
    own_grid: tuple[int, int] | None = None  # (grid, columns per step) from our own writer


@dataclass
class Reading:
    tabs: list[Tab]
    names: list[str | None]
    skipped: list[str]


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


def _tuning_for(labels: list[str | None], strings: int, info: FileInfo) -> tuple[int, ...]:
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


# -- reading one staff ----------------------------------------------------------------------


@dataclass
class _Event:
    column: int  # in the raw line
    fret: int | None
    marks: set[str]


def scan_string(text: str, offset: int) -> tuple[list[_Event], int]:
    """Notes on one string of one bar and the count of characters that meant nothing."""
    events: list[_Event] = []
    pending: str | None = None
    unknown = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit():
            j = i + 1
            if j < len(text) and text[j].isdigit() and int(text[i : j + 1]) <= MAX_FRET:
                j += 1
            event = _Event(offset + i, int(text[i:j]), {pending} if pending else set())
            pending = None
            i = _after_marks(text, j, event)
            events.append(event)
        elif ch in "xX":
            events.append(_Event(offset + i, None, set()))
            pending = None
            i += 1
        elif ch == "<":
            end = text.find(">", i)
            digits = text[i + 1 : end] if end > i else ""
            if digits.isdigit() and int(digits) <= MAX_FRET:
                events.append(_Event(offset + i, int(digits), {HARMONIC}))
                i = end + 1
            else:
                unknown += 1
                i += 1
        elif ch in "hp":
            pending, i = LEGATO, i + 1
        elif ch in "/\\s":
            pending, i = SLIDE, i + 1
        elif ch in "-=().t":  # rests, ghost-note brackets, staccato and tapping marks
            i += 1
        else:
            unknown += 1
            i += 1
    return events, unknown


def _after_marks(text: str, i: int, event: _Event) -> int:
    """Bends (with their target fret), releases, vibrato and harmonics after a note."""
    while i < len(text) and text[i] in "b^r~v*":
        ch = text[i]
        i += 1
        if ch in "b^":
            event.marks.add(BEND)
        elif ch == "r":
            event.marks.add(BEND_RELEASE)
        elif ch in "~v":
            event.marks.add(VIBRATO)
        else:
            event.marks.add(HARMONIC)
        if ch in "b^r":
            while i < len(text) and text[i].isdigit():
                i += 1  # the fret the bend reaches: not a new note
    return i


def _segments(line: StaffLine) -> list[tuple[int, str]]:
    """(start column in the raw line, text) of each bar of one staff line."""
    result = []
    position = 0
    for match in _BAR_RUN.finditer(line.content):
        if match.start() > position:
            result.append((line.column + position, line.content[position : match.start()]))
        position = match.end()
    if position < len(line.content):
        result.append((line.column + position, line.content[position:]))
    return [(start, text) for start, text in result if len(text) >= 2]


def _staff_bars(staff: Staff, skipped: list[str]) -> list[list[tuple[int, str]]]:
    """Per bar, each line's (start column, text), top line first."""
    per_line = [_segments(line) for line in staff.lines]
    counts = {len(segments) for segments in per_line}
    if len(counts) == 1:
        return [list(bar) for bar in zip(*per_line, strict=True)]
    skipped.append(
        f"line {staff.lines[0].number}: bar lines do not line up across the staff; "
        "bars taken from the top line's columns"
    )
    top = staff.lines[0]
    bars = []
    for start, text in per_line[0]:
        local = start - top.column
        bar = []
        for line in staff.lines:
            piece = line.content[local : local + len(text)].replace("|", "-")
            bar.append((line.column + local, piece))
        bars.append(bar)
    return bars


def _bar_steps(onsets: list[int], width: int, bar_len: int) -> list[int]:
    """Grid steps of a bar's onset columns. The closest two notes set the column unit, the bar's
    width in units gives its number of slots, and the slots share the bar's steps evenly. Dashes
    before the first note are padding up to one unit or PADDING columns (`|-0---2---|`,
    `|---3-5-|`); more mean a rest."""
    if not onsets:
        return []
    gaps = [b - a for a, b in zip(onsets, onsets[1:], strict=False)]
    unit = min(gaps) if gaps else max(1, width)
    first = onsets[0]
    lead = first if first <= max(unit, PADDING) else first % unit
    slots = [round((c - lead) / unit) for c in onsets]
    count = max(round(width / unit), slots[-1] + 1, 1)
    if bar_len % count == 0:
        steps = [slot * (bar_len // count) for slot in slots]
    else:
        steps = [round(slot * bar_len / count) for slot in slots]
    return _spread([min(step, bar_len - 1) for step in steps])


def _spread(steps: list[int]) -> list[int]:
    """Onsets that landed on one step move on, so notes never merge."""
    result: list[int] = []
    for step in steps:
        result.append(step if not result or step > result[-1] else result[-1] + 1)
    return result


def read_staff(staff: Staff, part: Part, info: FileInfo, grid: int, skipped: list[str]) -> None:
    """Append a staff's bars and notes to its part."""
    strings = len(staff.lines)
    bars = _staff_bars(staff, skipped)
    unknown = 0
    found: list[tuple[int, int, int, _Event]] = []  # (bar, string, column in bar, event)
    widths = []
    for index, bar in enumerate(bars):
        widths.append(max(len(text) for _, text in bar))
        for row, (start, text) in enumerate(bar):
            events, bad = scan_string(text, start)
            unknown += bad
            found.extend((index, strings - 1 - row, e.column - start, e) for e in events)
    if unknown:
        skipped.append(
            f"line {staff.lines[0].number}: {unknown} unknown character(s) in the staff "
            "read as rests"
        )
    bar_len = _nominal(info, grid)
    if any("|" in line.content for line in staff.lines):
        _place_by_bars(staff, widths, found, part, info, bar_len)
    else:
        _place_by_unit(staff, found, part, grid, bar_len)


def _nominal(info: FileInfo, grid: int) -> int:
    signature = info.time_signature or (4, 4)
    return max(1, signature[0] * grid // signature[1])


def _place_by_bars(staff: Staff, widths: list[int], found, part: Part, info: FileInfo, bar_len):
    for index, width in enumerate(widths):
        in_bar = [(s, c, e) for i, s, c, e in found if i == index]
        columns = sorted({c for _, c, _ in in_bar})
        if info.own_grid is not None:
            per_step = info.own_grid[1]
            length = max(1, round((width - 1) / per_step))
            steps = [max(0, round((c - 1) / per_step)) for c in columns]
        else:
            steps, length = _bar_steps(columns, width, bar_len), bar_len
        step_of = dict(zip(columns, steps, strict=True))
        length = max([length, *(step + 1 for step in steps)])
        _add_bar(part, [(step_of[c], s, e) for s, c, e in in_bar], length, staff)


def _place_by_unit(staff: Staff, found, part: Part, grid: int, bar_len: int) -> None:
    """No bar lines: the most common gap between notes is an eighth note."""
    columns = sorted({c for _, _, c, _ in found})
    if not columns:
        part.bars.append(bar_len)
        return
    gaps = [b - a for a, b in zip(columns, columns[1:], strict=False)]
    unit = Counter(gaps).most_common(1)[0][0] if gaps else 1
    per_unit = max(1, grid // 8)
    steps = _spread([round((c - columns[0]) / unit * per_unit) for c in columns])
    step_of = dict(zip(columns, steps, strict=True))
    total = steps[-1] + per_unit
    for bar_start in range(0, total, bar_len):
        bar_notes = [
            (step_of[c] - bar_start, s, e)
            for _, s, c, e in found
            if bar_start <= step_of[c] < bar_start + bar_len
        ]
        _add_bar(part, bar_notes, bar_len, staff)


def _add_bar(part: Part, bar_notes, length: int, staff: Staff | None) -> None:
    """Notes last until the next note in the bar (any string) or the bar's end; notes under a
    `let ring` line ring on until their string is struck again."""
    origin = part.length
    onsets = sorted({step for step, _, _ in bar_notes})
    for step, string, event in bar_notes:
        following = [s for s in onsets if s > step]
        end = following[0] if following else length
        marks = set(event.marks)
        ring = False
        for kind, first, last in staff.spans if staff else []:
            if first <= event.column <= last:
                if kind == "pm":
                    marks.add(PALM_MUTE)
                else:
                    ring = True
        if ring:
            end = length
        mark = next((m for m in MARK_PRIORITY if m in marks), NO_MARK)
        if event.fret is None and mark != PALM_MUTE:
            mark = NO_MARK
        part.notes.append(TabNote(origin + step, string, event.fret, max(1, end - step), mark))
    part.bars.append(length)


# -- the whole file -------------------------------------------------------------------------


def read_ascii(text: str, grid: int = DEFAULT_GRID) -> Reading:
    """Every part (instrument) found in the text; `skipped` says what could not be read."""
    lines = text.split("\n")
    skipped: list[str] = []
    info = read_info(lines)
    if info.own_grid is not None:
        grid = info.own_grid[0] if info.own_grid[0] in (8, 12, 16, 24, 32, 48) else grid
    staves = find_staves(lines, skipped)
    parts: list[Part] = []
    for staff in staves:
        part = _part_for(staff, parts)
        read_staff(staff, part, info, grid, skipped)
    tabs = []
    signature = info.time_signature
    if signature is not None and not signature_fits(signature, grid):
        signature = None
    for part in parts:
        tuning = _tuning_for(part.labels, part.strings, info)
        tabs.append(tab_from_notes(part.notes, part.bars, tuning, grid, signature, info.tempo))
    return Reading(tabs, [p.name for p in parts], skipped)


def _part_for(staff: Staff, parts: list[Part]) -> Part:
    strings = len(staff.lines)
    labels = [line.label for line in staff.lines]
    if staff.name is not None:
        for part in parts:
            if part.name == staff.name and part.strings == strings:
                return part
    else:
        for part in reversed(parts):
            if part.strings == strings:
                return part
    part = Part(staff.name, strings, labels)
    parts.append(part)
    return part
