"""Where rnnmusic keeps things on the user's machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    """Converted built-in corpora live here; RNNMUSIC_CACHE overrides (tests, shared machines)."""
    override = os.environ.get("RNNMUSIC_CACHE")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("rnnmusic"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def project_corpora_dir() -> Path:
    """The corpora the project ships: `corpora/` in a checkout, `rnnmusic/_corpora` in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_corpora", here.parent / "corpora"):
        if candidate.is_dir():
            return candidate
    return here.parent / "corpora"


def music21_corpus_dir() -> Path:
    """The corpus that ships inside music21 (the built-in chorales and folk tunes come from it)."""
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"
