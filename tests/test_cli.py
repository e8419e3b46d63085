"""The command line as users type it: real processes, exit codes, one-sentence errors."""

from __future__ import annotations

import pytest
from conftest import assert_user_error
from helpers import counting_corpus


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from conftest import run_cli

    tmp = tmp_path_factory.mktemp("cli")
    corpus = counting_corpus(tmp / "count.txt")
    result = run_cli(
        "train",
        "--codec",
        "text",
        "--corpus",
        corpus,
        "--out",
        tmp / "run",
        "--preset",
        "tiny",
        "--hidden-size",
        "48",
        "--max-steps",
        "30",
        "--eval-every",
        "15",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    assert "next: rnnmusic generate" in result.stdout
    return tmp / "run"


def test_generate_writes_numbered_files_and_prints_without_output(text_run, tmp_path, cli):
    result = cli(
        "generate",
        text_run,
        "-o",
        tmp_path / "song.txt",
        "--num",
        "3",
        "--seed",
        "1",
        "--length",
        "50",
    )
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["song-1.txt", "song-2.txt", "song-3.txt"]
    one = cli("generate", text_run, "-o", tmp_path / "one.txt", "--seed", "1", "--length", "50")
    assert one.returncode == 0 and (tmp_path / "one.txt").exists()
    printed = cli(
        "generate",
        text_run,
        "--prime",
        "four",
        "--seed",
        "2",
        "--length",
        "40",
        "--temperature",
        "0.8",
        "--num",
        "2",
    )
    assert printed.returncode == 0 and printed.stdout.startswith("four")


def test_prime_with_unseen_characters(text_run, cli):
    assert_user_error(cli("generate", text_run, "--prime", "KING"), "never saw in training")


def test_missing_and_corrupt_checkpoints(text_run, tmp_path, cli):
    assert_user_error(cli("generate", tmp_path / "nowhere"), "does not exist")
    (tmp_path / "bad.safetensors").write_bytes(b"\x07" * 100)
    assert_user_error(cli("generate", tmp_path / "bad.safetensors"), "not a safetensors file")
    (tmp_path / "empty").mkdir()
    assert_user_error(cli("generate", tmp_path / "empty"), "holds no checkpoint")


def test_codec_mismatch(text_run, cli):
    assert_user_error(cli("generate", text_run, "--codec", "abc"), "trained with the text codec")


def test_empty_corpus_folder(tmp_path, cli):
    (tmp_path / "nothing").mkdir()
    result = cli(
        "train", "--codec", "text", "--corpus", tmp_path / "nothing", "--out", tmp_path / "r"
    )
    assert_user_error(result, "holds no")


def test_unknown_corpus_name_and_bad_numbers(tmp_path, cli):
    assert_user_error(
        cli("train", "--codec", "text", "--corpus", "no-such-corpus", "--out", tmp_path / "r"),
        "neither a file, a folder nor a built-in corpus",
    )
    counting_corpus(tmp_path / "c.txt")
    assert_user_error(
        cli("train", "--codec", "text", "--corpus", tmp_path / "c.txt", "--max-steps", "0"),
        "--max-steps must be at least 1",
    )
    assert_user_error(cli("generate", tmp_path, "--temperature", "x"), "invalid float value")


def test_resume_of_a_folder_without_a_run(tmp_path, cli):
    assert_user_error(cli("train", "--resume", tmp_path), "no last.safetensors")


def test_corpus_list_and_build(tmp_path, cli):
    listed = cli("corpus", "list")
    assert listed.returncode == 0 and "python-stdlib" in listed.stdout
    counting_corpus(tmp_path / "c.txt")
    built = cli(
        "corpus",
        "build",
        tmp_path / "c.txt",
        "--codec",
        "text",
        "-o",
        tmp_path / "corp",
        "--no-progress",
    )
    assert built.returncode == 0, built.stderr
    assert "validation" in built.stdout and (tmp_path / "corp" / "train.bin").exists()
