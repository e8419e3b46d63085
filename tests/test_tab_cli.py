"""The tab codec end to end, as users type it: the built-in corpus, a tiny training run, and
samples written as Guitar Pro files that PyGuitarPro and MuseScore open."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import guitarpro as gp
import pytest
from outside_programs import have

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.tab.corpus import ABC_COLLECTIONS, folk_tab_files
from rnnmusic.sources import get_source

ROOT = Path(__file__).resolve().parent.parent


def test_folk_tabs_source_lists_music21_tunes_and_project_tabs():
    source = get_source("folk-tabs")
    assert get_codec("tab").default_corpus == "folk-tabs"
    files = source.files()
    assert len(files) > 1000
    assert {p.parent.name for p in files} >= set(ABC_COLLECTIONS) - {"nottingham-dataset"}
    project = [p for p in files if p.parent == ROOT / "corpora" / "tabs"]
    assert len(project) >= 8


def test_tunes_of_every_folk_collection_become_clean_tab():
    from rnnmusic.codecs.tab.abc_reader import split_tunes, tune_to_tab
    from rnnmusic.codecs.tab.codec import encode_tab
    from rnnmusic.codecs.tab.model import STANDARD

    codec = get_codec("tab")
    first_file = {}
    for path in folk_tab_files():
        first_file.setdefault(path.parent.name, path)
    for folder in ABC_COLLECTIONS:
        text = first_file[folder].read_text(encoding="latin-1")
        for tune in split_tunes(text)[:3]:
            decoded = codec.decode(encode_tab(tune_to_tab(tune, STANDARD)))
            assert decoded.clean, (folder, decoded.repairs)
            low, high = min(STANDARD), max(STANDARD) + 24
            assert all(low <= decoded.tab.pitch(n) <= high for n in decoded.tab.notes())


@pytest.mark.slow
def test_tiny_training_and_gp5_samples(tmp_path, cli):
    run = tmp_path / "run"
    result = cli(
        "train",
        "--codec",
        "tab",
        "--corpus",
        ROOT / "corpora" / "tabs",
        "--out",
        run,
        "--preset",
        "tiny",
        "--hidden-size",
        "48",
        "--max-steps",
        "40",
        "--eval-every",
        "20",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    assert "rnnmusic generate" in result.stdout
    out = tmp_path / "samples" / "tab.gp5"
    result = cli("generate", run, "-o", out, "--num", "2", "--length", "600", "--seed", "3")
    assert result.returncode == 0, result.stderr
    written = sorted(out.parent.glob("tab-*.gp5"))
    assert [p.name for p in written] == ["tab-1.gp5", "tab-2.gp5"]
    for path in written:
        song = gp.parse(str(path))
        assert len(song.tracks) == 1 and song.tracks[0].measures
    if have("mscore3"):  # the guitarist's tool opens what the model wrote
        mscore = shutil.which("mscore3") or shutil.which("musescore3")
        runtime = tmp_path / "xdg"
        runtime.mkdir(mode=0o700)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime)}
        for path in written:
            midi = path.with_suffix(".mid")
            done = subprocess.run(
                [mscore, "-o", str(midi), str(path)], env=env, capture_output=True, timeout=120
            )
            assert done.returncode == 0 and midi.stat().st_size > 0, done.stderr[-500:]
    text = cli("generate", run, "--num", "1", "--length", "300", "--seed", "3")
    assert text.returncode == 0 and text.stdout.strip()
