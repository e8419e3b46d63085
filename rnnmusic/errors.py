"""Errors a user can cause. The CLI prints their message as one sentence and exits 2; anything
else is a bug in rnnmusic and keeps its traceback."""

from __future__ import annotations

from pathlib import Path


class RnnMusicError(Exception):
    """A mistake in input or usage: the message says what went wrong and what to do."""


class CodecError(RnnMusicError):
    """A file a codec cannot read. Carries the file and the reason so batch jobs can report both."""

    def __init__(self, path: str | Path | None, reason: str):
        self.path = str(path) if path is not None else None
        self.reason = reason
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{reason}")


class CheckpointError(RnnMusicError):
    """A checkpoint that is missing, damaged, foreign or unsafe to load."""


class CorpusError(RnnMusicError):
    """A corpus that cannot be built or loaded (no files, nothing readable, damaged token file)."""
