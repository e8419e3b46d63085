"""Reading the tab codec's text: any string back into a `Tab` (`encoder` writes it).

    piece  = header "\\n" bar ("\\n" bar)*
    header = "g" GRID [" m" NUM "/" DEN] [" q" BPM] [" t" TUNING]
    bar    = group+ "|"
    group  = cell{N} [":" mark{N}] "."

N is the number of strings the tuning names (six by default). The full specification, with
examples, is codecs/tab/README.md. `parse_text` is total: whatever it is given, it returns a Tab
and the list of what it had to repair.
"""

from __future__ import annotations

import re

from rnnmusic.codecs.tab.alphabet import (
    BAR_END,
    CELL_CHARS,
    DEAD,
    DENOMINATORS,
    FRET_CHARS,
    GROUP_END,
    LEGATO,
    MARK_CHARS,
    MARKS_START,
    MAX_NUMERATOR,
    NO_MARK,
    REST,
    SUSTAIN,
    TEMPO_RANGE,
    bar_signature_steps,
)
from rnnmusic.codecs.tab.model import (
    DEFAULT_GRID,
    MAX_STRINGS,
    MIN_STRINGS,
    Column,
    Tab,
    is_grid,
    parse_pitches,
    signature_fits,
)

LONG_BAR_FACTOR = 2  # bars longer than this many nominal bars …
LONG_BAR_WHOLES = 2  # … and this many whole notes are split
MAX_REPAIR_EXAMPLES = 3  # repairs of one kind are counted, not listed one by one

_HEADER_TOKEN = re.compile(r"^(?:g\d+|m\d+/\d+|q\d+|t[A-G#0-9]+)$")


class Repairs:
    """Collects repairs by kind, so a sample with a thousand bad groups gives a short report."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, kind: str, count: int = 1) -> None:
        if count > 0:
            self.counts[kind] = self.counts.get(kind, 0) + count

    def as_list(self) -> list[str]:
        return [kind if n == 1 else f"{kind} (×{n})" for kind, n in self.counts.items()]


def parse_text(text: str) -> tuple[Tab, list[str]]:
    """Any string → a playable Tab plus the repairs that made it one."""
    repairs = Repairs()
    lines = text.replace("\r", "").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    tab = Tab()
    if lines and lines[0].strip().startswith("g"):
        _parse_header(lines.pop(0), tab, repairs)
    else:
        repairs.add("missing header line; assumed g16 and standard tuning")
    raw_bars = _split_bars("\n".join(lines), repairs)
    columns_per_bar = [
        [_parse_group(g, tab.strings, repairs) for g in bar] for bar in raw_bars if bar
    ]
    tab.bars = _fit_bars(columns_per_bar, tab, repairs)
    _fix_meaning(tab.bars, repairs)  # after fitting: padding can cut a sustain short
    if not tab.bars:
        repairs.add("no groups; wrote one silent bar")
        tab.bars = [[Column.empty(tab.strings) for _ in range(tab.nominal_bar)]]
    return tab, repairs.as_list()


def _parse_header(line: str, tab: Tab, repairs: Repairs) -> None:
    seen: set[str] = set()
    for token in line.split():
        kind = token[0]
        if not _HEADER_TOKEN.match(token) or kind in seen:
            repairs.add(f"header token {token[:12]!r} dropped")
            continue
        seen.add(kind)
        value = token[1:]
        if kind == "g":
            if is_grid(int(value)):
                tab.grid = int(value)
            else:
                repairs.add(f"grid {value[:6]} unsupported; used {DEFAULT_GRID}")
        elif kind == "m":
            num, den = (int(v) for v in value.split("/"))
            if 1 <= num <= MAX_NUMERATOR and den in DENOMINATORS:
                tab.time_signature = (num, den)
            else:
                repairs.add(f"time signature {value[:8]} dropped")
        elif kind == "q":
            bpm = int(value)
            if TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1]:
                tab.tempo = bpm
            else:
                repairs.add(f"tempo {value[:8]} dropped")
        elif kind == "t":
            pitches = parse_pitches(value)
            if pitches and MIN_STRINGS <= len(pitches) <= MAX_STRINGS and min(pitches) >= 12:
                tab.tuning = tuple(pitches)
            else:
                repairs.add(f"tuning {value[:20]} unsupported; used standard tuning")
    if "g" not in seen:
        repairs.add("header without grid; assumed g16")
    if tab.time_signature is not None and not signature_fits(tab.time_signature, tab.grid):
        repairs.add("time signature that does not fit the grid dropped")
        tab.time_signature = None


def _split_bars(body: str, repairs: Repairs) -> list[list[str]]:
    """The body as bars of raw group texts; a newline or the end closes an open bar."""
    bars: list[list[str]] = []
    bar: list[str] = []
    group: list[str] = []
    unclosed_groups = unclosed_bars = 0

    def close_group() -> None:
        bar.append("".join(group))
        group.clear()

    for ch in body:
        if ch == GROUP_END:
            close_group()
        elif ch == BAR_END or ch == "\n":
            if group:
                unclosed_groups += 1
                close_group()
            if ch == "\n" and not bar:
                continue  # the newline after a bar line, or a blank line
            if ch == "\n":
                unclosed_bars += 1
            if not bar:
                repairs.add("empty bar dropped")
            bars.append(bar)
            bar = []
        else:
            group.append(ch)
    if group:
        unclosed_groups += 1
        close_group()
    if bar:
        unclosed_bars += 1
        bars.append(bar)
    repairs.add("group not closed by '.'", unclosed_groups)
    repairs.add("bar not closed by '|'", unclosed_bars)
    return bars


def _parse_group(raw: str, strings: int, repairs: Repairs) -> Column:
    cells_text, has_marks, marks_text = raw.partition(MARKS_START)
    if has_marks and not marks_text:
        repairs.add("empty mark layer after ':' dropped")
    if MARKS_START in marks_text:
        repairs.add("extra ':' in a group dropped")
        marks_text = marks_text.replace(MARKS_START, "")
    cells = _clean(cells_text, CELL_CHARS, strings, REST, "string", repairs)
    marks = _clean(marks_text, MARK_CHARS, strings, NO_MARK, "mark", repairs)
    return Column(cells, marks)


def _clean(text: str, allowed: frozenset[str], size: int, pad: str, what: str, repairs) -> str:
    kept = "".join(ch for ch in text if ch in allowed)
    repairs.add(f"unknown {what} character dropped", len(text) - len(kept))
    if len(kept) < size and (kept or what == "string"):
        repairs.add(f"group with {len(kept)} {what} characters padded to {size}")
    elif len(kept) > size:
        repairs.add(f"group with {len(kept)} {what} characters cut to {size}")
    return (kept + pad * size)[:size]


def _fix_meaning(bars: list[list[Column]], repairs: Repairs) -> None:
    """Sustains need a sounding note, marks need a strike, legato needs an earlier note."""
    if not bars:
        return
    strings = len(bars[0][0].cells)
    sounding = [False] * strings
    struck_before = [False] * strings
    for bar in bars:
        for index, column in enumerate(bar):
            cells, marks = list(column.cells), list(column.marks)
            for s in range(strings):
                cell, mark = cells[s], marks[s]
                if cell == SUSTAIN and not sounding[s]:
                    cells[s] = REST
                    repairs.add("sustain '=' without a sounding note dropped")
                struck = cells[s] in FRET_CHARS or cells[s] == DEAD
                if mark != NO_MARK and not struck:
                    marks[s] = NO_MARK
                    repairs.add("technique mark without a struck note dropped")
                elif mark != NO_MARK and cells[s] == DEAD and mark != "m":
                    marks[s] = NO_MARK
                    repairs.add("technique mark on a dead note dropped")
                elif mark == LEGATO and not struck_before[s]:
                    marks[s] = NO_MARK
                    repairs.add("hammer-on/pull-off without an earlier note on its string dropped")
                sounding[s] = cells[s] != REST
                struck_before[s] = struck_before[s] or cells[s] in FRET_CHARS
            bar[index] = Column("".join(cells), "".join(marks))


def _fit_bars(bars: list[list[Column]], tab: Tab, repairs: Repairs) -> list[list[Column]]:
    """Split overlong bars; pad bars whose length no time signature can state."""
    nominal = tab.nominal_bar
    fitted: list[list[Column]] = []
    for bar in bars:
        longest = max(LONG_BAR_FACTOR * nominal, LONG_BAR_WHOLES * tab.grid)
        if len(bar) > longest or bar_signature_steps(len(bar), tab.grid) is None:
            repairs.add("overlong bar split into bars of the time signature")
            fitted.extend(bar[i : i + nominal] for i in range(0, len(bar), nominal))
        else:
            fitted.append(bar)
    for index, bar in enumerate(fitted):
        if len(bar) == nominal:
            continue
        need = bar_signature_steps(len(bar), tab.grid) or nominal
        if need != len(bar):
            repairs.add("bar padded to a length a time signature can state")
            fitted[index] = bar + [Column.empty(tab.strings)] * (need - len(bar))
    return fitted


def is_tab_text(text: str) -> bool:
    """True when a file holds this codec's own text (not an ASCII tab)."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    tokens = first.split()
    return (
        bool(tokens)
        and re.fullmatch(r"g\d+", tokens[0]) is not None
        and all(_HEADER_TOKEN.match(t) for t in tokens)
    )
