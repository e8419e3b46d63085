"""The shipped models: listed with their figures, used by name, and music comes out of each."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile

import mido
import pytest
from conftest import ROOT, assert_user_error, run_cli
from outside_programs import have

from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.models import PRETRAINED_DIR, shipped_models
from rnnmusic.music_check import ENOUGH_NOTES

EXPECTED = {"chorales": "midi-events", "folk": "abc", "tabs": "tab"}


def struck_notes(midi: mido.MidiFile) -> list[mido.Message]:
    return [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity]


def test_one_model_per_codec_ships_with_its_training_command():
    models = shipped_models()
    assert {name: m.codec for name, m in models.items()} == EXPECTED
    for name, model in models.items():
        assert model.path.is_file(), f"{name}: {model.path} is missing"
        command = model.card["command"]
        assert command.startswith(f"rnnmusic train --codec {model.codec} --corpus {model.corpus} ")
        assert model.card["valid_bpc"] < model.card["ngram_bpc"], name  # it learned something
        assert model.path.stat().st_size < 8e6, f"{name}: the package should stay small"


def test_shipped_checkpoints_hold_weights_and_the_corpus_profile_only():
    """Strict sampling keeps to the training pieces through the stored profile; the training
    machine's corpus path and the optimizer's state stay out of the package."""
    for name, model in shipped_models().items():
        ckpt = load_checkpoint(model.path)
        assert ckpt.codec_name == EXPECTED[name]
        assert ckpt.profile is not None and ckpt.profile.pieces > 100, name
        assert "corpus_path" not in ckpt.meta
        assert all(key.startswith("model.") for key in ckpt.tensors), name
        net = ckpt.model()
        assert all(p.dtype.is_floating_point and p.dtype.itemsize == 4 for p in net.parameters())


def test_models_command_lists_each_model_with_its_figures():
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    for name, model in shipped_models().items():
        assert f"{name}: " in result.stdout
        assert f"codec {model.codec}, corpus {model.corpus}" in result.stdout
        assert f"validation {model.card['valid_bpc']:.3f} bits/char" in result.stdout
        assert f"command: {model.card['command']}" in result.stdout
        assert f"rnnmusic generate {name} -o {model.example}" in result.stdout


def test_generate_chorales_by_name_writes_midi_with_four_voices(tmp_path):
    result = run_cli(
        "generate", "chorales", "-o", tmp_path / "song.mid", "--num", "2", "--seed", "1",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for number in (1, 2):
        midi = mido.MidiFile(tmp_path / f"song-{number}.mid")
        notes = struck_notes(midi)
        assert len(notes) > 40, f"song-{number}.mid has {len(notes)} notes"
        assert midi.length > 10


def test_generate_folk_by_name_writes_tunes_abc2midi_plays(tmp_path):
    from rnnmusic.codecs.abc.codec import AbcCodec

    result = run_cli(
        "generate", "folk", "-o", tmp_path / "tune.abc", "--num", "3", "--seed", "1", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    for number in (1, 2, 3):
        path = tmp_path / f"tune-{number}.abc"
        text = path.read_text(encoding="utf-8")
        assert "\nK:" in text and "|" in text
        body = text.split("\n", 2)[2]
        assert AbcCodec().decode(body).repairs == []
        if have("abc2midi"):
            done = subprocess.run(
                ["abc2midi", path, "-o", tmp_path / f"t{number}.mid"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert done.returncode == 0 and "Error" not in done.stdout, done.stdout
            midi = mido.MidiFile(tmp_path / f"t{number}.mid")
            notes = struck_notes(midi)
            assert len(notes) >= ENOUGH_NOTES and midi.length > 3, (len(notes), midi.length, text)


def test_generate_tabs_by_name_writes_guitar_pro_and_ascii_tab(tmp_path):
    import guitarpro

    for out in ("riff.gp5", "riff.txt"):
        result = run_cli(
            "generate", "tabs", "-o", tmp_path / out, "--seed", "2", cwd=tmp_path
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    song = guitarpro.parse(str(tmp_path / "riff.gp5"))
    notes = [
        note
        for measure in song.tracks[0].measures
        for voice in measure.voices
        for beat in voice.beats
        for note in beat.notes
    ]
    assert len(notes) > 10
    tab = (tmp_path / "riff.txt").read_text(encoding="utf-8")
    assert tab.count("e|") >= 1 and tab.count("E|") >= 1


def test_a_run_folder_named_like_a_model_is_still_the_users(tmp_path):
    (tmp_path / "folk").mkdir()
    assert_user_error(run_cli("generate", "folk", cwd=tmp_path), "holds no checkpoint")


def test_an_unknown_name_lists_the_shipped_models(tmp_path):
    result = run_cli("generate", "jazz", "-o", tmp_path / "x.mid", cwd=tmp_path)
    assert_user_error(result, "jazz does not exist", "chorales, folk, tabs", "rnnmusic models")


@pytest.mark.slow
def test_the_wheel_carries_the_models(tmp_path):
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed (pip install hatchling), so no wheel can be built")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", tmp_path, ROOT],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("rnnmusic-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rnnmusic/pretrained/models.json" in names
    for model in shipped_models().values():
        assert f"rnnmusic/pretrained/{model.file}" in names
    assert PRETRAINED_DIR.name == "pretrained"
