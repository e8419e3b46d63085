"""`folk-abc`: every ABC collection that ships inside music21, so `rnnmusic train --codec abc`
needs no download: Ryan's Mammoth Collection, O'Neill's Music of Ireland (1850 tunes), Aird's
Airs, the Essen folk songs, the Nottingham reels, two fife/minstrelsy books and Josquin parts."""

from __future__ import annotations

from pathlib import Path

from rnnmusic.codecs.base import Source
from rnnmusic.paths import music21_corpus_dir


def folk_abc_files() -> list[Path]:
    return sorted(p for p in music21_corpus_dir().rglob("*.abc") if p.is_file())


FOLK_ABC = Source(
    name="folk-abc",
    description="the ABC collections bundled with music21: Ryan's Mammoth, O'Neill's 1850, "
    "Aird's Airs, Essen folk songs and more (about 13,000 tunes)",
    licence="public-domain tunes; transcriptions as distributed with music21",
    codecs=("abc",),
    files=folk_abc_files,
    raw_files=folk_abc_files,
)
