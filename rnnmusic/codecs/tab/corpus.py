"""The tab codec's built-in corpus: the melodies of the ABC collections bundled with music21,
fingered onto the guitar, plus the tabs the project writes itself (corpora/tabs)."""

from __future__ import annotations

from pathlib import Path

from rnnmusic.codecs.base import Source
from rnnmusic.paths import music21_corpus_dir, project_corpora_dir

ABC_COLLECTIONS = (
    "airdsAirs",
    "essenFolksong",
    "miscFolk",
    "nottingham-dataset",
    "oneills1850",
    "ryansMammoth",
)
PROJECT_TAB_EXTENSIONS = (".txt", ".tab", ".gp3", ".gp4", ".gp5")


def folk_tab_files() -> list[Path]:
    """ABC files (the codec fingers every tune when the corpus is built) and project tabs."""
    root = music21_corpus_dir()
    files = [p for name in ABC_COLLECTIONS for p in sorted((root / name).rglob("*.abc"))]
    tabs = project_corpora_dir() / "tabs"
    if tabs.is_dir():
        files += sorted(
            p for p in tabs.rglob("*") if p.suffix.lower() in PROJECT_TAB_EXTENSIONS and p.is_file()
        )
    return files


FOLK_TABS = Source(
    name="folk-tabs",
    description="music21's ABC folk collections (O'Neill's, Ryan's Mammoth, Aird's Airs, "
    "Essen, …) fingered onto the guitar, plus the tabs in corpora/tabs",
    licence="music21 corpus terms (public-domain tunes, encoders' permission); corpora/tabs: MIT",
    codecs=("tab",),
    files=folk_tab_files,
    raw_files=folk_tab_files,
)
