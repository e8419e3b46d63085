"""Are the samples music like the training pieces? The checks `rnnmusic eval` reports, each
a number for the samples, the same for the training pieces, and whether it is near enough.

Medians, not means: one runaway sample of ten minutes should show as one, not move the bar.
"""

from __future__ import annotations

import statistics
from typing import Any

ENOUGH_NOTES = 16  # a sample with fewer is not a piece a listener keeps
DURATION_BAND = (0.5, 2.0)  # median length of the samples over that of the training pieces
SPREAD_FACTOR = 1.5  # pitch range and voices at once: within this factor of training
ALL_BARS_TARGET = 0.6  # share of ABC samples whose bars all fill the meter


def _median(rows: list[dict[str, float]], key: str) -> float | None:
    values = [float(row[key]) for row in rows if key in row]  # numpy numbers do not go to JSON
    return statistics.median(values) if values else None


def _share(rows: list[dict[str, float]], test) -> float | None:
    return sum(1 for row in rows if test(row)) / len(rows) if rows else None


def music_checks(
    samples: list[dict[str, float]], training: list[dict[str, float]]
) -> dict[str, dict[str, Any]]:
    """name -> {samples, training, target, ok}; only the checks the codec's statistics allow."""
    checks: dict[str, dict[str, Any]] = {}
    if any("notes" in row for row in samples):

        def enough(row):  # a tab's dead notes (x) are clicks, not notes a listener counts
            return row.get("pitched_notes", row.get("notes", 0)) >= ENOUGH_NOTES

        checks[f"share with at least {ENOUGH_NOTES} notes"] = {
            "samples": _share(samples, enough),
            "training": _share(training, enough),
            "target": "1.00",
            "ok": bool(_share(samples, enough) == 1.0),
        }
    for key, label, low, high in (
        ("seconds", "median seconds", *DURATION_BAND),
        ("pitch_range", "median pitch range", 1 / SPREAD_FACTOR, SPREAD_FACTOR),
        ("polyphony", "median voices at once", 1 / SPREAD_FACTOR, SPREAD_FACTOR),
    ):
        ours, theirs = _median(samples, key), _median(training, key)
        if ours is None or theirs is None or theirs <= 0:
            continue
        ratio = ours / theirs
        checks[label] = {
            "samples": ours,
            "training": theirs,
            "target": f"{low:.2f}–{high:.2f}× training",
            "ok": bool(low <= ratio <= high),
        }
    if any("all_bars_as_meter" in row for row in samples):

        def all_full(row):
            return row.get("all_bars_as_meter", 0.0) == 1.0

        share = _share(samples, all_full)
        checks["share whose bars all fill the meter"] = {
            "samples": share,
            "training": _share(training, all_full),
            "target": f"≥ {ALL_BARS_TARGET:.2f}",
            "ok": bool(share is not None and share >= ALL_BARS_TARGET),
        }
    return checks


def format_checks(checks: dict[str, dict[str, Any]]) -> list[str]:
    if not checks:
        return []
    lines = [f"\n{'music checks':<38}{'samples':>10}{'training':>10}   target"]
    for name, check in checks.items():
        mark = "ok" if check["ok"] else "MISSED"
        lines.append(
            f"{name:<38}{check['samples']:>10.2f}{check['training']:>10.2f}   "
            f"{check['target']} {mark}"
        )
    return lines
