"""The midi-events codec through the real `rnnmusic` command: corpus building that skips bad
files, encode/decode/convert, and train → generate → MIDI files with notes."""

from __future__ import annotations

import json
import shutil

import pretty_midi
import pytest
from conftest import assert_user_error, run_cli
from midi_files import GOLDEN, beat_notes

from rnnmusic.codecs.midi_events.corpus import chorale_scores, convert_chorales

CHORALES = ["bwv10.7", "bwv101.7", "bwv110.7", "bwv13.6", "bwv102.7", "bwv127.5"]


@pytest.fixture(scope="module")
def chorale_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chorale-midi")
    sources = [p for p in chorale_scores() if p.stem in CHORALES]
    assert convert_chorales(sources, folder, jobs=2, progress=False) == {}
    return folder


def test_corpus_build_skips_and_reports_bad_files(chorale_dir, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(chorale_dir, folder)
    band = (GOLDEN / "band.mid").read_bytes()
    (folder / "cut.mid").write_bytes(band[: len(band) // 2])
    (folder / "empty.midi").write_bytes(b"")
    (folder / "photo.mid").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = run_cli(
        "corpus", "build", folder, "--codec", "midi-events", "-o", tmp_path / "corpus",
        "--jobs", "2", "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"read {len(CHORALES)} of {len(CHORALES) + 3} files" in result.stdout
    assert "skipped 3 files" in result.stdout
    for name, reason in [
        ("cut.mid", "is truncated"),
        ("empty.midi", "is empty"),
        ("photo.mid", "is not a MIDI file"),
    ]:
        assert any(name in line and reason in line for line in result.stdout.splitlines())
    meta = json.loads((tmp_path / "corpus" / "corpus.json").read_text())
    assert meta["codec"] == "midi-events" and meta["codec_options"]["ticks_per_beat"] == 4
    assert len(meta["report"]["skipped"]) == 3


def test_encode_convert_and_decode_commands(tmp_path):
    encoded = run_cli("encode", GOLDEN / "band.mid", "--velocity-bins", "8")
    assert encoded.returncode == 0, encoded.stderr
    expected = (GOLDEN / "band.velocity-bins-8.txt").read_text(encoding="utf-8")
    assert encoded.stdout == expected

    converted = run_cli("convert", GOLDEN / "band.mid", tmp_path / "band.mid")
    assert converted.returncode == 0, converted.stderr
    assert [n[:5] for n in beat_notes(tmp_path / "band.mid")] == [
        n[:5] for n in beat_notes(GOLDEN / "band.mid")
    ]

    decoded = run_cli(
        "decode", GOLDEN / "sampled.txt", "--codec", "midi-events", "-o", tmp_path / "s.mid"
    )
    assert decoded.returncode == 0, decoded.stderr
    assert "10 repairs: char 32: unknown character 'x' skipped" in decoded.stdout
    assert pretty_midi.PrettyMIDI(str(tmp_path / "s.mid")).instruments[0].notes


def test_command_line_mistakes_are_one_sentence(tmp_path):
    cut = tmp_path / "cut.mid"
    cut.write_bytes((GOLDEN / "band.mid").read_bytes()[:100])
    assert_user_error(run_cli("encode", cut), "cut.mid", "is truncated")
    assert_user_error(run_cli("encode", GOLDEN / "band.mid", "--track", "9"), "no track 9")
    assert_user_error(
        run_cli("encode", GOLDEN / "band.mid", "--velocity-bins", "40"), "--velocity-bins"
    )
    assert_user_error(
        run_cli(
            "decode", GOLDEN / "sampled.txt", "--codec", "midi-events", "-o", tmp_path / "x.wav"
        ),
        "cannot write .wav",
    )


@pytest.mark.slow
def test_train_then_generate_three_midi_files_with_notes(chorale_dir, tmp_path):
    run = tmp_path / "run"
    trained = run_cli(
        "train", "--codec", "midi-events", "--corpus", chorale_dir, "--out", run,
        "--preset", "tiny", "--hidden-size", "48", "--batch-size", "8", "--seq-len", "64",
        "--max-steps", "40", "--eval-every", "20", "--learning-rate", "0.01",
        "--jobs", "1", "--no-progress",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert f"rnnmusic generate {run} -o sample.mid --num 3" in trained.stdout

    generated = run_cli(
        "generate", run, "-o", tmp_path / "out.mid", "--num", "3", "--seed", "3",
        "--length", "600", "--temperature", "0.9",
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    written = sorted(p.name for p in tmp_path.glob("out-*.mid"))
    assert written == ["out-1.mid", "out-2.mid", "out-3.mid"]
    for name in written:
        pm = pretty_midi.PrettyMIDI(str(tmp_path / name))
        assert sum(len(i.notes) for i in pm.instruments) >= 1, name


@pytest.mark.slow
def test_train_out_of_the_box_builds_the_chorale_corpus(tmp_path, monkeypatch):
    """`rnnmusic train --codec midi-events` with no corpus converts the chorales shipped with
    music21 once, builds the corpus, trains and says what to run next."""
    env_cache = tmp_path / "cache"  # a fresh install: nothing converted yet
    monkeypatch.setenv("RNNMUSIC_CACHE", str(env_cache))
    run = tmp_path / "run"
    result = run_cli(
        "train", "--codec", "midi-events", "--out", run, "--hidden-size", "32",
        "--max-steps", "4", "--eval-every", "2", "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "converting 409 Bach chorales to MIDI" in result.stdout
    assert f"next: rnnmusic generate {run}" in result.stdout
    converted = list((env_cache / "sources" / "bach-chorales").glob("*.mid"))
    assert len(converted) >= 400
    corpus = next((env_cache / "corpora").glob("bach-chorales--midi-events--*"))
    report = json.loads((corpus / "corpus.json").read_text())["report"]
    assert report["files_read"] == len(converted) and report["pieces"] >= 400
