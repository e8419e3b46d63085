"""Writing a tune as a file: `.abc` text that abc2midi, EasyABC, abcjs and music21 read, or `.mid`
through the codec's own player, which plays what abc2midi plays (repeats, grace notes, ornaments,
chord symbols: see play/)."""

from __future__ import annotations

import re
from pathlib import Path

from rnnmusic.codecs.abc.tune import Tune


def abc_document(text: str, title: str = "rnnmusic sample", number: int = 1) -> str:
    """A complete ABC tune from a tune's canonical text: its X: and T: fields, then the text."""
    return f"X:{number}\nT:{title}\n{text}\n"


def write_tune(text: str, tune: Tune, path: str | Path, chord_symbols: bool) -> None:
    """`.abc` as `text` with a title; any other extension (`.mid`) through the player."""
    title = f"rnnmusic sample {_sample_number(path)}"
    if Path(path).suffix.lower() == ".abc":
        Path(path).write_text(abc_document(text, title, 1), encoding="utf-8")
        return
    from rnnmusic.codecs.abc.play import write_tune_midi

    write_tune_midi(tune, path, title, chord_symbols=chord_symbols)


def _sample_number(path: str | Path) -> int:
    """`song-3.mid` is sample 3 (generate --num N names files so); anything else is sample 1."""
    match = re.search(r"-(\d{1,6})$", Path(path).stem)
    return int(match.group(1)) if match else 1
