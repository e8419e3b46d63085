"""The music checks `rnnmusic eval` reports: what passes, what misses, and that they go to JSON."""

from __future__ import annotations

import json

import numpy as np

from rnnmusic.music_check import format_checks, music_checks

TRAINING = [
    {"notes": 200.0, "seconds": 30.0, "pitch_range": 30.0, "polyphony": 4.0},
    {"notes": 260.0, "seconds": 34.0, "pitch_range": 34.0, "polyphony": 4.0},
]


def test_samples_like_the_training_pieces_pass_every_check():
    samples = [{k: np.float64(v) for k, v in row.items()} for row in TRAINING]  # as pretty_midi
    checks = music_checks(samples, TRAINING)
    assert set(checks) == {
        "share with at least 16 notes",
        "median seconds",
        "median pitch range",
        "median voices at once",
    }
    assert all(check["ok"] for check in checks.values())
    json.dumps(checks)  # eval.json must be written
    assert all("ok" in line for line in format_checks(checks)[1:])


def test_empty_runaway_and_crowded_samples_miss():
    samples = [
        {"notes": 0.0},
        {"notes": 900.0, "seconds": 170.0, "pitch_range": 70.0, "polyphony": 12.0},
        {"notes": 800.0, "seconds": 160.0, "pitch_range": 65.0, "polyphony": 10.0},
    ]
    checks = music_checks(samples, TRAINING)
    assert not any(check["ok"] for check in checks.values())
    assert checks["share with at least 16 notes"]["samples"] == 2 / 3
    assert any("MISSED" in line for line in format_checks(checks))


def test_abc_bars_are_checked_where_the_codec_reports_them():
    tunes = [{"notes": 50.0, "all_bars_as_meter": 1.0}] * 3 + [
        {"notes": 50.0, "all_bars_as_meter": 0.0}
    ]
    checks = music_checks(tunes, tunes)
    bars = checks["share whose bars all fill the meter"]
    assert bars["samples"] == 0.75 and bars["ok"]


def test_dead_notes_do_not_make_a_tab_long_enough():
    """The MIDI of a tab plays a dead note (x) as a click; 20 of them and 3 frets are no piece."""
    clicks = [{"notes": 23.0, "pitched_notes": 3.0}, {"notes": 40.0, "pitched_notes": 40.0}]
    checks = music_checks(clicks, clicks)
    assert checks["share with at least 16 notes"]["samples"] == 0.5
    assert not checks["share with at least 16 notes"]["ok"]
