"""ASCII tabs as people post them: staves of `e|--0--|` lines among titles, chord names and
lyrics, read into notes on the grid.

What it understands: staves of four to eight lines with or without string labels (`e|`, `E|`,
`Eb|`, none), several staves per file and several instruments (a `Gtr 1:` or `Bass:` line above
a staff names its part; an unnamed staff continues the last part with as many strings), uneven
line lengths, one- and two-digit frets, bar lines and repeat marks (`|`, `||`, `|:`, `:|`),
techniques between or after notes (h p / \\ s b r ~ v x, `<12>` harmonics, `(7)` ghost notes),
`PM---` and `let ring---` lines above a staff, and `Tempo:`, `Time:`, `Tuning:` lines.

Rhythm comes from spacing: each bar is spread over the time signature's bar (4/4 unless the
file says otherwise) by the even slots its notes sit on (see `_bar_steps`). Staves without bar
lines take their most common gap between notes as an eighth note. Files this codec's own
writer made (they say `Grid: 1/16 note, 2 columns per step`) read back exactly. Where things
are in the file (staves, header lines, part names) is `ascii_layout`'s job.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rnnmusic.codecs.tab.alphabet import (
    BEND,
    BEND_RELEASE,
    HARMONIC,
    HIGHEST_FRET,
    LEGATO,
    MARK_PRIORITY,
    NO_MARK,
    PALM_MUTE,
    SLIDE,
    VIBRATO,
)
from rnnmusic.codecs.tab.ascii_layout import (
    FileInfo,
    Staff,
    StaffLine,
    find_staves,
    read_info,
    tuning_for,
)
from rnnmusic.codecs.tab.model import (
    DEFAULT_GRID,
    Tab,
    TabNote,
    is_grid,
    signature_fits,
    tab_from_notes,
)

PADDING = 3  # dashes after a bar line that are layout, not a rest
_BAR_RUN = re.compile(r":?\|+:?")


@dataclass
class Part:
    name: str | None
    strings: int
    labels: list[str | None]
    notes: list[TabNote] = field(default_factory=list)
    bars: list[int] = field(default_factory=list)
    length: int = 0  # sum of `bars`, kept as they are added (a file may hold 100,000 staves)

    def add_bar(self, length: int) -> None:
        self.bars.append(length)
        self.length += length


@dataclass
class Reading:
    tabs: list[Tab]
    names: list[str | None]
    skipped: list[str]


# -- reading one staff ----------------------------------------------------------------------


@dataclass
class _Event:
    column: int  # in the raw line
    fret: int | None
    marks: set[str]
    width: int = 1  # characters of the fret as written (2 for `12`)


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
            if j < len(text) and text[j].isdigit() and int(text[i : j + 1]) <= HIGHEST_FRET:
                j += 1
            event = _Event(offset + i, int(text[i:j]), {pending} if pending else set(), j - i)
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
            if digits.isdigit() and int(digits) <= HIGHEST_FRET:
                events.append(_Event(offset + i, int(digits), {HARMONIC}, end + 1 - i))
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
    """Grid steps of a bar's onset columns. The closest two notes set the column unit and the
    bar's width in units its number of even slots, rounded to a count that divides the bar
    (9 slots of a 16-step bar are read as 8 eighths, not as uneven steps), so notes written
    evenly are read evenly. Dashes before the first note are padding up to one unit or
    PADDING columns (`|-0---2---|`, `|---3-5-|`); more mean a rest."""
    if not onsets:
        return []
    gaps = [b - a for a, b in zip(onsets, onsets[1:], strict=False)]
    unit = min(gaps) if gaps else max(1, width)
    first = onsets[0]
    lead = first if first <= max(unit, PADDING) else first % unit
    slots = [round((c - lead) / unit) for c in onsets]
    natural = max(round(width / unit), 1)
    needed = slots[-1] + 1
    even = [c for c in range(needed, bar_len + 1) if bar_len % c == 0]
    if even:
        count = min(even, key=lambda c: (abs(c - natural), c))
        steps = [slot * (bar_len // count) for slot in slots]
    else:  # more slots than steps: keep their order, spread below
        count = max(natural, needed)
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
    by_bar = defaultdict(list)  # grouped once: a staff line of a million bars stays linear
    for index, string, column, event in found:
        by_bar[index].append((string, column, event))
    for index, width in enumerate(widths):
        in_bar = by_bar[index]
        columns = sorted({c for _, c, _ in in_bar})
        if info.own_grid is not None:
            wide = {c for _, c, e in in_bar if e.width > 1} if info.wide_frets else set()
            steps, length = _own_steps(columns, width, info.own_grid[1], wide)
        else:
            steps, length = _bar_steps(columns, width, bar_len), bar_len
        step_of = dict(zip(columns, steps, strict=True))
        length = max([length, *(step + 1 for step in steps)])
        _add_bar(part, [(step_of[c], s, e) for s, c, e in in_bar], length, staff)


def _own_steps(
    columns: list[int], width: int, per_step: int, wide: set[int]
) -> tuple[list[int], int]:
    """Steps of a bar our writer made: after a one-column margin every step takes `per_step`
    columns, one more where a two-digit fret starts (`wide`)."""
    starts, column = [], 1
    while column < width:
        starts.append(column)
        column += per_step + (column in wide)
    steps = [max(0, bisect_right(starts, c) - 1) for c in columns]
    return steps, max(1, len(starts))


def _place_by_unit(staff: Staff, found, part: Part, grid: int, bar_len: int) -> None:
    """No bar lines: the most common gap between notes is an eighth note."""
    columns = sorted({c for _, _, c, _ in found})
    if not columns:
        part.add_bar(bar_len)
        return
    gaps = [b - a for a, b in zip(columns, columns[1:], strict=False)]
    unit = Counter(gaps).most_common(1)[0][0] if gaps else 1
    per_unit = max(1, grid // 8)
    steps = _spread([round((c - columns[0]) / unit * per_unit) for c in columns])
    step_of = dict(zip(columns, steps, strict=True))
    total = steps[-1] + per_unit
    by_bar = defaultdict(list)
    for _, s, c, e in found:
        by_bar[step_of[c] // bar_len].append((step_of[c] % bar_len, s, e))
    for bar_start in range(0, total, bar_len):
        _add_bar(part, by_bar[bar_start // bar_len], bar_len, staff)


def _add_bar(part: Part, bar_notes, length: int, staff: Staff | None) -> None:
    """Notes last until the next note in the bar (any string) or the bar's end; notes under a
    `let ring` line ring on until their string is struck again."""
    origin = part.length
    onsets = sorted({step for step, _, _ in bar_notes})
    for step, string, event in bar_notes:
        later = bisect_right(onsets, step)
        end = onsets[later] if later < len(onsets) else length
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
    part.add_bar(length)


# -- the whole file -------------------------------------------------------------------------


def read_ascii(text: str, grid: int | None = None) -> Reading:
    """Every part (instrument) found in the text; `skipped` says what could not be read."""
    lines = text.split("\n")
    skipped: list[str] = []
    info = read_info(lines)
    grid = grid or DEFAULT_GRID
    if info.own_grid is not None:
        grid = info.own_grid[0] if is_grid(info.own_grid[0]) else grid
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
        tuning = tuning_for(part.labels, part.strings, info)
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
