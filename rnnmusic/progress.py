"""Progress bars on stderr for the steps that take long (chorale conversion, training,
sampling): redrawn in place on a terminal; in a log file a line at most every 30 seconds, so a
long step is never silent and the log stays short."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

LOG_INTERVAL_S = 30.0


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True, **options: Any) -> tqdm:
    """A tqdm bar; `enabled=False` (the commands' --no-progress) hides it."""
    terminal = sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        mininterval=0.2 if terminal else LOG_INTERVAL_S,
        dynamic_ncols=terminal,
        **options,
    )
