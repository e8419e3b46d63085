"""Text a model is asked to read (a prime, a page to inspect) may hold characters it never saw;
both say so the same way: which characters, and what to do instead."""

from __future__ import annotations

from rnnmusic.errors import RnnMusicError


def unknown_characters(text: str, vocab: list[str]) -> list[str]:
    known = set(vocab)
    return sorted({ch for ch in text if ch not in known})


def check_known(text: str, vocab: list[str], subject: str, advice: str) -> None:
    """An RnnMusicError naming the first unknown characters, e.g. subject "the prime contains"."""
    unknown = unknown_characters(text, vocab)
    if unknown:
        shown = ", ".join(repr(ch) for ch in unknown[:10])
        raise RnnMusicError(
            f"{subject} {len(unknown)} character(s) the model never saw in training "
            f"({shown}); {advice}"
        )
