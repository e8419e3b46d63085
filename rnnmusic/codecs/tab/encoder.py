"""Writing a `Tab` as the tab codec's text: the one canonical spelling, which `decoder` reads
back exactly.

    piece  = header "\\n" bar ("\\n" bar)*
    header = "g" GRID [" m" NUM "/" DEN] [" q" BPM] [" t" TUNING]
    bar    = group+ "|"
    group  = cell{N} [":" mark{N}] "."
"""

from __future__ import annotations

from rnnmusic.codecs.tab.alphabet import BAR_END, GROUP_END, MARKS_START
from rnnmusic.codecs.tab.model import STANDARD, Column, Tab, pitch_name


def format_header(tab: Tab) -> str:
    tokens = [f"g{tab.grid}"]
    if tab.time_signature is not None:
        tokens.append(f"m{tab.time_signature[0]}/{tab.time_signature[1]}")
    if tab.tempo is not None:
        tokens.append(f"q{tab.tempo}")
    if tab.tuning != STANDARD:
        tokens.append("t" + "".join(pitch_name(p) for p in tab.tuning))
    return " ".join(tokens)


def format_column(column: Column) -> str:
    if column.has_marks:
        return f"{column.cells}{MARKS_START}{column.marks}{GROUP_END}"
    return column.cells + GROUP_END


def format_tab(tab: Tab) -> str:
    lines = [format_header(tab)]
    for bar in tab.bars:
        if bar:
            lines.append("".join(format_column(c) for c in bar) + BAR_END)
    return "\n".join(lines)
