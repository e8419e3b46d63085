"""ABC files as they are found: many tunes per file, a file header before the first X:, Windows
line endings, Latin-1 text, `\\` continuation lines. Splits a file into raw tunes; what to keep
of each is `normalise`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rnnmusic.bounded_read import read_bytes
from rnnmusic.errors import CodecError

_FIELD = re.compile(r"^([A-Za-z]):(.*)$")
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class RawTune:
    """One tune as written: its header fields in order, its body lines (continuations joined),
    and the source lines themselves (for comparisons with other ABC readers)."""

    number: str
    title: str
    line: int  # 1-based line of its X: (or first line) in the file
    header: list[tuple[str, str]] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    source: str = ""

    def field(self, name: str) -> str | None:
        return next((value for key, value in self.header if key == name), None)

    @property
    def label(self) -> str:
        title = f" ({self.title})" if self.title else ""
        return f"tune X:{self.number}{title} at line {self.line}"


def read_abc_text(path: str | Path) -> str:
    """The file's text: UTF-8, else Latin-1; binary files are a CodecError."""
    data = read_bytes(path, MAX_FILE_BYTES, "an ABC file")
    if not data.strip():
        raise CodecError(path, "is empty")
    head = data[:65536]
    if b"\x00" in head or len(_CONTROL.findall(head)) > len(head) // 100:
        raise CodecError(path, "is a binary file, not ABC text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_tunes(text: str) -> tuple[list[tuple[str, str]], list[RawTune]]:
    """File-header fields and the tunes. A tune runs from X: to the first blank line after its
    K: (the ABC standard); a file with no X: at all is one tune if it has a K: field."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if not starts:
        if not any(line.startswith("K:") for line in lines):
            return [], []
        starts, preamble = [0], []
    else:
        preamble = _fields(lines[: starts[0]])
    tunes = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        tune = _read_tune(lines, start, end)
        if tune is not None:
            tunes.append(tune)
    return preamble, tunes


def _fields(lines: list[str]) -> list[tuple[str, str]]:
    found = []
    for line in lines:
        match = _FIELD.match(line)
        if match:
            found.append((match.group(1), match.group(2).strip()))
    return found


def _read_tune(lines: list[str], start: int, end: int) -> RawTune | None:
    number = lines[start][2:].strip() if lines[start].startswith("X:") else "1"
    tune = RawTune(number=number, title="", line=start + 1)
    i = start
    while i < end:  # header: field lines up to and including K:
        line = lines[i]
        i += 1
        match = _FIELD.match(line)
        if not match:
            continue  # comments, directives, stray blank lines inside a header
        name, value = match.group(1), match.group(2).strip()
        tune.header.append((name, value))
        if name == "T" and not tune.title:
            tune.title = value
        if name == "K":
            break
    if tune.field("K") is None:
        return None
    body_end = i
    while body_end < end and lines[body_end].strip():
        body_end += 1
    tune.body = join_continuations(lines[i:body_end])
    tune.source = "\n".join(lines[start:body_end]) + "\n"
    return tune


def join_continuations(lines: list[str]) -> list[str]:
    """A line ending in `\\` (before any comment) continues on the next music line; field
    lines met on the way (`L:1/16`) stay lines of their own, after the music before them."""
    joined: list[str] = []
    carry = ""
    for line in lines:
        if carry and (_FIELD.match(line) or line.startswith("%")):
            joined += [carry, line]
            carry = ""
            continue
        code = line.split("%", 1)[0].rstrip()
        if code.endswith("\\") and not line.startswith("%"):
            carry = _join(carry, code[:-1])
            continue
        joined.append(_join(carry, line))
        carry = ""
    if carry:
        joined.append(carry)
    return joined


def _join(before: str, after: str) -> str:
    """Two pieces of one music line. Bar lines that met at the line break stay two bar lines
    (`|` ⏎ `:|` is a bar line and an end repeat, not `|:|`)."""
    if before.rstrip().endswith(("|", ":")) and after.lstrip().startswith(("|", ":", "[|")):
        return before + " " + after
    return before + after
