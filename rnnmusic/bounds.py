"""Checks that an option holds a number within its bounds, each failure one sentence naming the
option; shared by SampleConfig and TrainConfig (and so by the CLI and the Python API alike)."""

from __future__ import annotations

import math

from rnnmusic.errors import RnnMusicError


def whole(flag: str, value: object, low: int, high: int | None = None, advice: str = "") -> int:
    """`value` when it is a whole number in [low, high] (high None: no upper bound)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RnnMusicError(f"{flag} must be a whole number, not {value!r}")
    if value < low:
        raise RnnMusicError(f"{flag} must be at least {low:,}, not {value:,}")
    if high is not None and value > high:
        raise RnnMusicError(f"{flag} must be at most {high:,}, not {value:,}{advice}")
    return value


def number(flag: str, value: object) -> float:
    """`value` when it is a finite number (NaN and infinity pass no bound check sensibly)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RnnMusicError(f"{flag} must be a finite number, not {value!r}")
    return float(value)
