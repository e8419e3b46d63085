"""The .gp5 files the tab codec writes, opened by the real MuseScore 3: its MIDI export must have
our pitches at our onsets (MuseScore reads GP as a treble-8vb staff, so compare sounding pitch;
its MIDI ends notes a tick early, so durations are not compared)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import mido
import pytest

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.tab.gp import parse_gp

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "codecs" / "tab" / "golden"
MSCORE = shutil.which("mscore3") or shutil.which("musescore3")
pytestmark = pytest.mark.needs("mscore3")

PLAIN_PIECES = {
    # sixteenths and eighths, a chord held over a bar line, a rest, a pickup bar
    "melody": "g16 m3/4 q100\n--3---.--=---.|\n---0--.---=--.--2---.--3---.---2--.---=--.---0--.----1-"
    ".----0-.----=-.------.------.|\n020100.======.======.======.======.======.======.======."
    "======.======.======.======.|\n======.======.-----3.-----=.-----=.-----=.-----=.-----=."
    "-----=.-----=.-----=.-----=.|",
    # eighth and sixteenth triplets on a 48 grid, a bass in drop tuning
    "triplets": "g48 m2/4 q76 tD1A1D2G2\n"
    + "0---."
    + "----." * 3
    + "-2--."
    + "----." * 3
    + "--4-."
    + "----." * 3
    + "0---."
    + "----." * 11
    + ("---5." + "----.") * 6
    + "|",
    # a seven-string riff in 7/8
    "seven": "g16 m7/8 q150 tB1E2A2D3G3B3E4\n"
    + ("000----." + "===----." + "--2----." + "--=----." + "-------." + "0------.") * 2
    + "2------.=------.|",
}


def musescore_notes(files: list[tuple[Path, Path]], tmp_path: Path) -> None:
    """Convert every .gp5 to .mid in one MuseScore start (headless, private runtime dir)."""
    job = tmp_path / "job.json"
    job.write_text(json.dumps([{"in": str(a), "out": str(b)} for a, b in files]))
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime)}
    result = subprocess.run(
        [MSCORE, "-j", str(job)], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]


def played(path: Path, grid: int, on_grid_only: bool = False) -> list[tuple[int, int]]:
    """(grid step, pitch) of every note-on in a MIDI file."""
    midi = mido.MidiFile(str(path))
    found = []
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity:
                step = now * grid / (4 * midi.ticks_per_beat)
                if on_grid_only and abs(step - round(step)) > 1e-6:
                    continue  # a glissando's passing note
                assert abs(step - round(step)) < 1e-6, (path, now)
                found.append((round(step), message.note))
    return sorted(found)


def ours(text: str) -> list[tuple[int, int]]:
    """(step, pitch) of our notes; a note struck while another string still sounds its pitch
    is left out (one MIDI channel cannot sound a pitch twice, so MuseScore merges them)."""
    tab = get_codec("tab").decode(text).tab
    notes = [n for n in tab.notes() if n.fret is not None]
    found = []
    for note in notes:
        pitch = tab.pitch(note)
        unison = any(
            o.start < note.start < o.end and tab.pitch(o) == pitch and o.string != note.string
            for o in notes
        )
        if not unison:
            found.append((note.start, pitch))
    return sorted(found)


def test_musescore_plays_our_gp5_files_with_our_pitches_and_onsets(tmp_path):
    codec = get_codec("tab")
    texts = dict(PLAIN_PIECES)
    golden = (GOLDEN / "quirks.expected").read_text().strip().split("\n\n")
    texts["golden-bass"] = golden[1]
    with_effects = {"golden-guitar": golden[0]}
    rng = random.Random(5)  # decoded noise: odd bar lengths, repairs, every mark
    alphabet = "--------=====x0123456789abc.....||\n:hbr/~m*"
    for i in range(4):
        with_effects[f"noise-{i}"] = "g16 m4/4\n" + "".join(
            rng.choice(alphabet) for _ in range(600)
        )
    files = []
    for name, text in {**texts, **with_effects}.items():
        gp5 = tmp_path / f"{name}.gp5"
        codec.write(codec.decode(text), gp5)
        parse_gp(gp5)  # validated before MuseScore sees it: a damaged .gp5 can crash MuseScore
        files.append((gp5, tmp_path / f"{name}.mid"))
    musescore_notes(files, tmp_path)
    for name, text in texts.items():
        grid = codec.decode(text).tab.grid
        assert played(tmp_path / f"{name}.mid", grid) == ours(text), name
    for name, text in with_effects.items():
        # slides, bends and vibrato add MuseScore's own glissando and bend notes; dead notes
        # sound muted: every note we wrote is still there, at its onset
        heard = set(played(tmp_path / f"{name}.mid", 16, on_grid_only=True))
        assert set(ours(text)) <= heard, name
