"""ASCII tab a guitarist can read: a header with tempo, time and tuning, then staves of aligned
bars, highest string on top as usual.

Every step of the shown grid takes the same number of columns (two; three on an eighth grid;
one on grids finer than a sixteenth where no string has notes on neighbouring steps), so the
spacing shows the rhythm. A step where some string has a two-digit fret is one column wider on
every string, so the fret never runs into its neighbours (`-12-5-`, never `125`). The `Grid:`
line says all this, and our own reader uses it to get the exact steps back.

The shown grid is the coarsest (from the tab's grid down to a sixteenth) that holds every onset:
a g48 tab of plain sixteenths is shown in sixteenths. Hammer-ons, pull-offs and slides are
written between the two notes (`5h7`, `7p5`, `5/7`, `7\\5`), bends, vibrato and harmonics after
the note (`7b`, `7r`, `7~`, `7*`) where the column is free, palm muting as a `PM----` line above
the staff, dead notes as `x` (their fret, where the hand rests, is not shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from rnnmusic.codecs.tab.alphabet import (
    BEND,
    BEND_RELEASE,
    DEAD,
    FRET_CHARS,
    HARMONIC,
    LEGATO,
    MUTED,
    PALM_MUTE,
    SLIDE,
    VIBRATO,
)
from rnnmusic.codecs.tab.model import (
    DEFAULT_GRID,
    STANDARD,
    TUNINGS,
    Column,
    Tab,
    is_grid,
    pitch_name,
)

LINE_WIDTH = 80  # staves wrap before this many columns (a bar wider than this gets a line)
WIDE_FRET = "one more where a fret has two digits"  # the Grid line's promise, read back
_AFTER_MARKS = {BEND: "b", BEND_RELEASE: "r", VIBRATO: "~", HARMONIC: "*"}


@dataclass(frozen=True)
class Layout:
    """How the tab's grid is shown: `every` tab steps make one shown step of `columns`."""

    grid: int  # the shown grid (steps per whole note)
    every: int
    columns: int


def layout_for(tab: Tab) -> Layout:
    """The coarsest shown grid (down to a sixteenth, or the tab's own grid if coarser) that
    holds every onset and bar line, and the columns a shown step needs."""
    onsets = [n.start for n in tab.notes()]
    common = gcd(*onsets, *(len(bar) for bar in tab.bars), tab.grid)
    floor = min(tab.grid, DEFAULT_GRID)
    fitting = [
        d
        for d in range(1, common + 1)
        if common % d == 0 and is_grid(tab.grid // d) and tab.grid // d >= floor
    ]
    every = max(fitting, default=1)
    grid = tab.grid // every
    if grid <= 8:
        return Layout(grid, every, 3)
    if grid > DEFAULT_GRID and _closest_on_a_string(tab) >= 2 * every:
        return Layout(grid, every, 1)
    return Layout(grid, every, 2)


def _closest_on_a_string(tab: Tab) -> int:
    """The fewest tab steps between two strikes on one string (a large number if none)."""
    closest = 1 << 30
    last: dict[int, int] = {}
    for note in tab.notes():
        if note.string in last:
            closest = min(closest, note.start - last[note.string])
        last[note.string] = note.start
    return closest


def grid_line(layout: Layout) -> str:
    return f"Grid: 1/{layout.grid} note, {layout.columns} columns per step, {WIDE_FRET}"


def string_labels(tuning: tuple[int, ...]) -> list[str]:
    """Note names per string, low string first; the highest string is lower-case when another
    string has the same name or it is a guitar's high E (the usual `e` over `E`)."""
    names = [pitch_name(p)[:-1] for p in tuning]
    labels = list(names)
    top = len(names) - 1
    if names[top] in names[:top] or (names[top] == "E" and len(names) >= 6):
        labels[top] = names[top].lower()
    return labels


def _tuning_line(tuning: tuple[int, ...]) -> str:
    named = next((name for name, t in TUNINGS.items() if t == tuning), None)
    pitches = " ".join(pitch_name(p) for p in tuning)
    return f"Tuning: {pitches}" + (f" ({named})" if named else "")


def format_ascii(tab: Tab, title: str = "") -> str:
    layout = layout_for(tab)
    lines = []
    if title:
        lines.append(title)
    if tab.tempo:
        lines.append(f"Tempo: {tab.tempo} bpm")
    if tab.time_signature:
        lines.append(f"Time: {tab.time_signature[0]}/{tab.time_signature[1]}")
    lines.append(_tuning_line(tab.tuning if tab.tuning else STANDARD))
    lines.append(grid_line(layout))
    lines.append("")
    rendered = [_render_bar(tab, bar, layout) for bar in tab.bars]
    labels = string_labels(tab.tuning)
    label_width = max(len(label) for label in labels)
    system: list[tuple[list[str], str]] = []
    used = label_width + 1
    for bar_lines, pm_line in rendered:
        bar_width = len(bar_lines[0]) + 1
        if system and used + bar_width > LINE_WIDTH:
            lines.extend(_staff(system, labels, label_width))
            system, used = [], label_width + 1
        system.append((bar_lines, pm_line))
        used += bar_width
    if system:
        lines.extend(_staff(system, labels, label_width))
    return "\n".join(lines).rstrip("\n") + "\n"


def _staff(system, labels: list[str], label_width: int) -> list[str]:
    out = []
    pm = "".join(" " + pm_line for _, pm_line in system)
    if pm.strip():
        out.append(" " * label_width + pm.rstrip())
    for s in reversed(range(len(labels))):
        body = "".join("|" + bar_lines[s] for bar_lines, _ in system)
        out.append(labels[s].ljust(label_width) + body + "|")
    out.append("")
    return out


def _struck(column: Column) -> bool:
    return any(c in FRET_CHARS or c == DEAD for c in column.cells)


def _text(cell: str, mark: str) -> str:
    if cell == DEAD or mark == MUTED:
        return "x"
    return str(FRET_CHARS.index(cell))


def step_columns(bar: list[Column], layout: Layout) -> list[int]:
    """The first column of each shown step of a bar (after the one-column margin), and the
    bar's width as the last entry."""
    starts, at = [], 1
    for step in range(0, len(bar), layout.every):
        starts.append(at)
        column = bar[step]
        wide = any(
            len(_text(c, m)) > 1
            for c, m in zip(column.cells, column.marks, strict=True)
            if c in FRET_CHARS or c == DEAD
        )
        at += layout.columns + wide
    return [*starts, at]


def _render_bar(tab: Tab, bar: list[Column], layout: Layout) -> tuple[list[str], str]:
    """Each string's characters for the bar (after a one-column margin) and the PM line."""
    strings = tab.strings
    starts = step_columns(bar, layout)
    size = starts[-1]
    rows = [["-"] * size for _ in range(strings)]
    struck = []  # (shown step, string, text, mark, fret or None)
    for shown, at in enumerate(starts[:-1]):
        column = bar[shown * layout.every]
        for s in range(strings):
            cell, mark = column.cells[s], column.marks[s]
            if cell in FRET_CHARS or cell == DEAD:
                text = _text(cell, mark)
                rows[s][at : at + len(text)] = list(text)
                struck.append(
                    (shown, s, text, mark, None if text == "x" else FRET_CHARS.index(cell))
                )
    previous_fret: list[int | None] = [None] * strings
    for shown, s, text, mark, fret in struck:  # marks once every fret is in place
        at = starts[shown]
        if mark in (LEGATO, SLIDE) and at > 1 and rows[s][at - 1] == "-" and fret is not None:
            rows[s][at - 1] = _between(mark, previous_fret[s], fret)
        after = at + len(text)
        if mark in _AFTER_MARKS and after < size and _free_after(rows[s], after, mark):
            rows[s][after] = _AFTER_MARKS[mark]
        if fret is not None:
            previous_fret[s] = fret
    muted = [shown for shown, _, _, mark, _ in struck if mark == PALM_MUTE]
    return ["".join(r) for r in rows], _pm_line(bar, layout, starts, muted)


def _pm_line(bar: list[Column], layout: Layout, starts: list[int], steps: list[int]) -> str:
    """`PM--` over each palm-muted note, joined to the next muted note when nothing unmuted is
    struck in between."""
    steps = sorted(set(steps))
    on = [False] * starts[-1]
    for index, shown in enumerate(steps):
        stop = shown + 1
        following = steps[index + 1] if index + 1 < len(steps) else None
        if following is not None and not any(
            _struck(bar[k * layout.every]) for k in range(shown + 1, following)
        ):
            stop = following
        on[starts[shown] : starts[stop]] = [True] * (starts[stop] - starts[shown])
    line = [" "] * len(on)
    for i, muted in enumerate(on):
        if muted:
            line[i] = "-" if i and on[i - 1] else "P"
            if line[i] == "-" and line[i - 1] == "P":
                line[i] = "M"
    return "".join(line)


def _between(mark: str, before: int | None, after: int) -> str:
    if mark == LEGATO:
        return "p" if before is not None and after < before else "h"
    return "\\" if before is not None and after < before else "/"


def _free_after(row: list[str], after: int, mark: str) -> bool:
    """A mark after a note fits if its column is empty and, for bends (whose reader takes the
    digits that follow as the bend's target), no fret starts right after it."""
    if row[after] != "-":
        return False
    if mark not in (BEND, BEND_RELEASE):
        return True
    following = after + 1
    return not (following < len(row) and row[following].isdigit())
