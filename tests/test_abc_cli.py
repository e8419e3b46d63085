"""The abc codec through the real `rnnmusic` command: corpus building that skips bad files and
reports left-out tunes, deduplication, the transposed split, encode/convert/decode, and
train → generate → .abc and .mid files that music21 and abc2midi read."""

from __future__ import annotations

import json
import shutil
import subprocess

import mido
import pytest
from conftest import assert_user_error, run_cli
from outside_programs import have

from rnnmusic.codecs.abc import AbcCodec
from rnnmusic.codecs.abc.clients import music21_notes
from rnnmusic.codecs.abc.corpus import folk_abc_files
from rnnmusic.corpus import Corpus

REAL_FILES = [
    "oneills1850/0001-0050.abc",
    "ryansMammoth/LanigansBallJig.abc",
    "airdsAirs/book2.abc",
]


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """Tiny models on a shared two-core machine: one intra-op thread avoids spin-wait stalls."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def tune_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tunes")
    for name in REAL_FILES:
        source = next(p for p in folk_abc_files() if str(p).endswith(name))
        shutil.copy(source, folder / source.name)
    return folder


def test_corpus_build_skips_bad_files_and_reports_left_out_tunes(tune_folder, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(tune_folder, folder)
    (folder / "empty.abc").write_bytes(b"")
    (folder / "junk.abc").write_bytes(bytes(range(256)) * 16)
    (folder / "letter.abc").write_text("Dear folk,\nno tunes in here.\n", encoding="utf-8")
    (folder / "duets.abc").write_text(
        "X:1\nT:two voices\nM:2/4\nK:G\nV:1\nGABc|\nV:2\nB,CDE|\n\nX:2\nT:one voice\nM:2/4\nK:G\n"
        "GABc|d4|]\n",
        encoding="utf-8",
    )
    shutil.copy(folder / "0001-0050.abc", folder / "copy-of-oneills.abc")  # 50 duplicate tunes
    result = run_cli(
        "corpus", "build", folder, "--codec", "abc", "-o", tmp_path / "corpus", "--jobs", "2",
        "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "read 5 of 8 files" in result.stdout
    assert "50 duplicates dropped" in result.stdout
    assert "left out 1 pieces inside files: 1 × multi-voice tune (V:)" in result.stdout
    for name, reason in [
        ("empty.abc", "is empty"),
        ("junk.abc", "is a binary file"),
        ("letter.abc", "holds no ABC tunes"),
    ]:
        assert any(name in line and reason in line for line in result.stdout.splitlines()), name
    meta = json.loads((tmp_path / "corpus" / "corpus.json").read_text())
    assert meta["codec"] == "abc"
    assert meta["codec_options"] == {"transpose": "none", "chord_symbols": True}
    assert len(meta["report"]["skipped"]) == 3


def test_all_keys_keeps_the_copies_of_a_tune_in_one_split(tune_folder, tmp_path):
    result = run_cli(
        "corpus", "build", tune_folder, "--codec", "abc", "--transpose", "all",
        "-o", tmp_path / "corpus", "--jobs", "2", "--no-progress", "--valid-fraction", "0.2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    corpus = Corpus.load(tmp_path / "corpus")
    codec = AbcCodec(transpose="all")
    train = {codec.split_key(p) for p in codec.split_pieces(corpus.text("train"))}
    valid = {codec.split_key(p) for p in codec.split_pieces(corpus.text("valid"))}
    assert train and valid and not train & valid
    pieces = codec.split_pieces(corpus.text("train")) + codec.split_pieces(corpus.text("valid"))
    keys = {line for p in pieces for line in p.split("\n") if line.startswith("K:")}
    assert {
        "K:C",
        "K:Db",
        "K:D",
        "K:Eb",
        "K:E",
        "K:F",
        "K:Gb",
        "K:G",
        "K:Ab",
        "K:A",
        "K:Bb",
        "K:B",
    } <= keys


def test_encode_convert_and_decode_commands(tune_folder, tmp_path):
    oneill = tune_folder / "0001-0050.abc"
    encoded = run_cli("encode", oneill)  # the codec is picked by the extension
    assert encoded.returncode == 0, encoded.stderr
    pieces = encoded.stdout.rstrip("\n").split("\n\n")
    assert len(pieces) == 50 and all(p.startswith("M:") for p in pieces)

    converted = run_cli("convert", tune_folder / "LanigansBallJig.abc", tmp_path / "lanigan.mid")
    assert converted.returncode == 0, converted.stderr
    midi = mido.MidiFile(tmp_path / "lanigan.mid")
    notes = [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity]
    assert len(notes) > 100  # a whole jig, its repeats played out

    (tmp_path / "sample.txt").write_text("M:6/8\nK:D\nFAA dAA|BAF ABd|[ce\n", encoding="utf-8")
    decoded = run_cli("decode", tmp_path / "sample.txt", "--codec", "abc", "-o", tmp_path / "s.abc")
    assert decoded.returncode == 0, decoded.stderr
    assert "repairs: added the missing L:1/8; closed an unclosed chord" in decoded.stdout
    written = (tmp_path / "s.abc").read_text(encoding="utf-8")
    assert written == "X:1\nT:rnnmusic sample 1\nM:6/8\nL:1/8\nK:D\nFAA dAA|BAF ABd|[ce]\n"


def test_user_mistakes_are_one_sentence(tmp_path):
    (tmp_path / "junk.abc").write_bytes(b"\x00\x01\x02" * 50)
    assert_user_error(run_cli("encode", tmp_path / "junk.abc"), "is a binary file, not ABC text")
    (tmp_path / "t.txt").write_text("M:2/4\nK:G\nGABc|\n", encoding="utf-8")
    assert_user_error(
        run_cli("decode", tmp_path / "t.txt", "--codec", "abc", "-o", tmp_path / "t.gp5"),
        "cannot write .gp5",
    )
    assert_user_error(
        run_cli("encode", "--codec", "abc", tmp_path / "t.txt"), "does not handle .txt"
    )
    assert_user_error(
        run_cli(
            "corpus", "build", "folk-abc", "--codec", "abc", "--transpose", "up", "-o", tmp_path
        ),
        "invalid choice",
    )


@pytest.fixture(scope="module")
def abc_run(tune_folder, tmp_path_factory):
    run = tmp_path_factory.mktemp("abc-run") / "run"
    result = run_cli(
        "train", "--codec", "abc", "--corpus", tune_folder, "--out", run, "--transpose", "c",
        "--preset", "tiny", "--hidden-size", "48", "--max-steps", "40", "--eval-every", "20",
        "--batch-size", "16", "--seq-len", "48", "--learning-rate", "0.01", "--no-progress",
        "--jobs", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "next: rnnmusic generate" in result.stdout and ".abc" in result.stdout
    return run


@pytest.mark.slow
def test_train_stores_the_transpose_option_and_generates_tunes(abc_run, tmp_path):
    from rnnmusic.checkpoint import load_checkpoint

    ckpt = load_checkpoint(abc_run)
    assert ckpt.codec_name == "abc"
    assert ckpt.meta["codec_options"] == {"transpose": "c", "chord_symbols": True}
    result = run_cli(
        "generate", abc_run, "-o", tmp_path / "tune.abc", "--num", "2", "--seed", "3",
        "--length", "400", "--prime", "M:6/8\nL:1/8\nK:C\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for number in (1, 2):
        text = (tmp_path / f"tune-{number}.abc").read_text(encoding="utf-8")
        assert text.startswith(f"X:1\nT:rnnmusic sample {number}\nM:6/8\nL:1/8\nK:C\n")
        assert AbcCodec().decode(text.split("\n", 2)[2]).repairs == []  # canonical as written
        music21_notes(text)  # music21 reads it
        if have("abc2midi"):
            done = subprocess.run(
                ["abc2midi", tmp_path / f"tune-{number}.abc", "-o", tmp_path / f"t{number}.mid"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert done.returncode == 0 and (tmp_path / f"t{number}.mid").exists(), done.stdout
    midi = run_cli(
        "generate", abc_run, "-o", tmp_path / "tune.mid", "--seed", "3", "--length", "300"
    )
    assert midi.returncode == 0, midi.stderr
    assert (tmp_path / "tune.mid").read_bytes()[:4] == b"MThd"
    mido.MidiFile(tmp_path / "tune.mid")  # a MIDI file mido reads


@pytest.mark.slow
def test_train_with_nothing_else_uses_the_built_in_folk_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNMUSIC_CACHE", str(tmp_path / "cache"))  # a fresh install
    result = run_cli(
        "train", "--codec", "abc", "--out", tmp_path / "run", "--max-steps", "5",
        "--eval-every", "5", "--hidden-size", "32", "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "building the built-in corpus 'folk-abc' for the abc codec" in result.stdout
    assert "read 1146 of 1146 files" in result.stdout
    assert "left out 15 pieces inside files: 15 × multi-voice tune (V:)" in result.stdout
    assert "duplicates dropped" in result.stdout
