"""ASCII tab a guitarist can read: a header with tempo, time and tuning, then staves of aligned
bars, highest string on top as usual.

Every grid step takes the same number of columns (two, or three on grids coarser than a
sixteenth), so the spacing shows the rhythm and our own reader gets the exact steps back.
Hammer-ons, pull-offs and slides are written between the two notes (`5h7`, `7p5`, `5/7`, `7\\5`),
bends, vibrato and harmonics after the note (`7b`, `7r`, `7~`, `7*`) where the column is free,
palm muting as a `PM----` line above the staff.
"""

from __future__ import annotations

from rnnmusic.codecs.tab.model import (
    BEND,
    BEND_RELEASE,
    DEAD,
    FRET_CHARS,
    HARMONIC,
    LEGATO,
    PALM_MUTE,
    SLIDE,
    STANDARD,
    TUNINGS,
    VIBRATO,
    Tab,
    pitch_name,
)

LINE_WIDTH = 80  # staves wrap before this many columns (a bar wider than this gets a line)
_AFTER_MARKS = {BEND: "b", BEND_RELEASE: "r", VIBRATO: "~", HARMONIC: "*"}


def columns_per_step(grid: int) -> int:
    return 3 if grid <= 8 else 2


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
    width = columns_per_step(tab.grid)
    lines = []
    if title:
        lines.append(title)
    if tab.tempo:
        lines.append(f"Tempo: {tab.tempo} bpm")
    if tab.time_signature:
        lines.append(f"Time: {tab.time_signature[0]}/{tab.time_signature[1]}")
    lines.append(_tuning_line(tab.tuning if tab.tuning else STANDARD))
    lines.append(f"Grid: 1/{tab.grid} note, {width} columns per step")
    lines.append("")
    rendered = [_render_bar(tab, bar, width) for bar in tab.bars]
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


def _render_bar(tab: Tab, bar, width: int) -> tuple[list[str], str]:
    """Each string's characters for the bar (after a one-column margin) and the PM line."""
    strings = tab.strings
    size = 1 + width * len(bar)
    rows = [["-"] * size for _ in range(strings)]
    muted_steps: list[int] = []
    previous_fret: list[int | None] = [None] * strings
    for step, column in enumerate(bar):
        at = 1 + width * step
        for s in range(strings):
            cell, mark = column.cells[s], column.marks[s]
            if cell not in FRET_CHARS and cell != DEAD:
                continue
            text = "x" if cell == DEAD else str(FRET_CHARS.index(cell))
            rows[s][at : at + len(text)] = list(text)
            if mark in (LEGATO, SLIDE) and at > 1 and rows[s][at - 1] == "-":
                rows[s][at - 1] = _between(mark, previous_fret[s], FRET_CHARS.find(cell))
            after = at + len(text)
            if (
                mark in _AFTER_MARKS
                and after < size
                and _free_after(rows[s], bar, s, width, after, mark)
            ):
                rows[s][after] = _AFTER_MARKS[mark]
            if mark == PALM_MUTE:
                muted_steps.append(step)
            if cell != DEAD:
                previous_fret[s] = FRET_CHARS.index(cell)
    return ["".join(r) for r in rows], _pm_line(_muted_columns(bar, muted_steps, width, size))


def _muted_columns(bar, muted_steps: list[int], width: int, size: int) -> list[bool]:
    """Columns under the PM line: each muted note, joined to the next muted note when nothing
    unmuted is struck in between."""
    muted = [False] * size
    for index, step in enumerate(muted_steps):
        stop = step + 1
        following = muted_steps[index + 1] if index + 1 < len(muted_steps) else None
        if following is not None and not any(_struck(bar[s]) for s in range(step + 1, following)):
            stop = following
        first = 1 + width * step
        muted[first : 1 + width * stop] = [True] * (width * (stop - step))
    return muted


def _struck(column) -> bool:
    return any(c in FRET_CHARS or c == DEAD for c in column.cells)


def _pm_line(muted: list[bool]) -> str:
    """`PM--` over each run of palm-muted columns."""
    line = [" "] * len(muted)
    for i, on in enumerate(muted):
        if on:
            line[i] = "-" if i and muted[i - 1] else "P"
            if line[i] == "-" and i >= 1 and line[i - 1] == "P":
                line[i] = "M"
    return "".join(line)


def _between(mark: str, before: int | None, after: int) -> str:
    if mark == LEGATO:
        return "p" if before is not None and after < before else "h"
    return "\\" if before is not None and after < before else "/"


def _free_after(row: list[str], bar, s: int, width: int, after: int, mark: str) -> bool:
    """A mark after a note fits if its column is empty and, for bends (whose reader takes the
    digits that follow as the bend's target), no note starts right after it."""
    if row[after] != "-":
        return False
    if mark not in (BEND, BEND_RELEASE):
        return True
    following = after + 1
    if (following - 1) % width == 0:
        step = (following - 1) // width
        return not (step < len(bar) and bar[step].cells[s] in FRET_CHARS)
    return True
