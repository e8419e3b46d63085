"""Killed, interrupted and doubled training runs never corrupt a run folder."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import assert_user_error
from helpers import counting_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.codecs import get_codec
from rnnmusic.corpus import build_corpus
from rnnmusic.errors import CheckpointError
from rnnmusic.train import fit

FAST = ["--hidden-size", "48", "--batch-size", "8", "--seq-len", "16", "--no-progress"]


def _start(args, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "rnnmusic", "train", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def _wait_for(path, timeout=120, newer_than: float = 0.0):
    """Until `path` exists (and was written after `newer_than`)."""
    deadline = time.monotonic() + timeout
    while not path.exists() or path.stat().st_mtime <= newer_than:
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture
def corpus(tmp_path):
    return build_corpus(
        counting_corpus(tmp_path / "c.txt", pieces=300),
        get_codec("text"),
        tmp_path / "corpus",
        progress=False,
    ).path


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_corrupt_checkpoint(tmp_path, corpus):
    run = tmp_path / "run"
    args = [
        "--codec",
        "text",
        "--corpus",
        corpus,
        "--out",
        run,
        "--max-steps",
        "100000",
        "--eval-every",
        "3",
        *FAST,
    ]  # a checkpoint every few steps: kills often land mid-write
    rng = random.Random(0)
    steps_seen = []
    for attempt in range(6):
        before = (run / "last.safetensors").stat().st_mtime if attempt else 0.0
        proc = _start(
            args if attempt == 0 else ["--resume", run, "--max-steps", "100000", "--no-progress"]
        )
        _wait_for(run / "last.safetensors", newer_than=before)  # it resumed and trains
        time.sleep(rng.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ckpt = load_checkpoint(run / "last.safetensors")  # whole, never half-written
        ckpt.model()
        steps_seen.append(ckpt.meta["step"])
        logged = [json.loads(line)["step"] for line in (run / "metrics.jsonl").open()]
        # at most the steps since the last checkpoint are lost
        assert max(logged) - ckpt.meta["step"] < 3 + 10
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0]
    final = _start(["--resume", run, "--max-steps", str(steps_seen[-1] + 5), "--no-progress"])
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    assert f"finished at step {steps_seen[-1] + 5}" in out
    assert not list(run.glob(".*.tmp-*"))  # stale temporary files were cleaned up


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path, corpus):
    run = tmp_path / "run"
    proc = _start(
        [
            "--codec",
            "text",
            "--corpus",
            corpus,
            "--out",
            run,
            "--max-steps",
            "100000",
            "--eval-every",
            "50",
            *FAST,
        ]
    )
    _wait_for(run / "metrics.jsonl")
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    step = load_checkpoint(run / "last.safetensors").meta["step"]
    assert f"stopped at step {step}" in out
    assert f"rnnmusic train --resume {run}" in out


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_is_refused(tmp_path, corpus, cli):
    run = tmp_path / "run"
    first = _start(
        [
            "--codec",
            "text",
            "--corpus",
            corpus,
            "--out",
            run,
            "--max-steps",
            "100000",
            "--eval-every",
            "100000",
            *FAST,
        ]
    )
    try:
        _wait_for(run / "metrics.jsonl")
        second = cli("train", "--codec", "text", "--corpus", corpus, "--out", run, *FAST)
        assert_user_error(second, "in use by another training run")
    finally:
        first.kill()
        first.wait()


# -- checkpoints from outside: every damaged byte and every odd metadata value is refused ---------


@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory):
    from helpers import tiny_config

    tmp = tmp_path_factory.mktemp("flips")
    fit(
        tiny_config(
            counting_corpus(tmp / "c.txt"), tmp / "run", max_steps=4, eval_every=4, hidden_size=8
        )
    )
    return tmp / "run" / "best.safetensors"


def test_every_flipped_bit_anywhere_in_a_checkpoint_is_refused(checkpoint_file, tmp_path):
    """The header, the metadata text and the tensor bytes alike: a checkpoint with one bit
    changed never loads, and never fails with anything but a CheckpointError."""
    data = checkpoint_file.read_bytes()
    rng = random.Random(18)
    target = tmp_path / "flipped.safetensors"
    for _ in range(300):
        damaged = bytearray(data)
        index = rng.randrange(len(data))
        damaged[index] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError):
            load_checkpoint(target)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(
        [
            "codec",
            "vocab",
            "model",
            "model.hidden_size",
            "model.num_layers",
            "model.vocab_size",
            "model.dropout",
            "model.cell",
            "format_version",
            "default_sample_length",
            "separator",
            "codec_options",
            "step",
        ]
    ),
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=6,
    ),
)
def test_odd_metadata_values_load_or_are_one_sentence(
    checkpoint_file, tmp_path_factory, key, value
):
    """Any JSON value in any field: the checkpoint loads and builds its model, or a
    CheckpointError says why; nothing is allocated from a number before it is checked."""
    from hostile_commands import _set, forge

    target = tmp_path_factory.mktemp("odd") / "odd.safetensors"
    forge(checkpoint_file, target, meta=_set(key, value))
    try:
        ckpt = load_checkpoint(target)
    except CheckpointError as error:
        assert "\n" not in str(error) and len(str(error)) < 400
        return
    ckpt.model()


# -- writes that fail leave nothing behind --------------------------------------------------------


def test_append_that_hits_enospc_reports_the_file_and_leaves_it_as_it_was():
    """/dev/full refuses every write with ENOSPC: a real disk-full error without root."""
    from rnnmusic.atomic_write import WriteError, append_text

    with pytest.raises(WriteError, match="disk is full") as info:
        append_text("/dev/full", '{"step": 1}\n')
    assert info.value.disk_full and str(info.value).startswith("could not write /dev/full")


def test_append_on_a_full_disk_cuts_back_and_creates_nothing(tmp_path):
    from hostile_commands import can_mount, fill, small_disk

    from rnnmusic.atomic_write import WriteError, append_text, write_text

    if can_mount():
        pytest.skip(can_mount())
    with small_disk(tmp_path / "disk", full=False) as disk:
        log = disk / "metrics.jsonl"
        append_text(log, '{"step": 1}\n')
        fill(disk)
        with pytest.raises(WriteError, match="disk is full"):
            append_text(log, json.dumps({"step": 2, "pad": "x" * 20_000}) + "\n")
        assert log.read_text() == '{"step": 1}\n'
        with pytest.raises(WriteError, match="disk is full"):
            append_text(disk / "samples.jsonl", "x" * 20_000)
        with pytest.raises(WriteError, match="disk is full"):
            write_text(disk / "run.json", "x" * 20_000)
        assert sorted(p.name for p in disk.iterdir()) == [".filler", "metrics.jsonl"]


def test_bounded_reader_counts_bytes_of_files_that_report_size_0():
    """/proc files report size 0 whatever they hold: the cap is kept while reading."""
    from rnnmusic.bounded_read import read_bytes
    from rnnmusic.errors import CodecError

    assert b"VmRSS" in read_bytes("/proc/self/status", 1_000_000)
    with pytest.raises(CodecError, match="holds more than the 10 bytes"):
        read_bytes("/proc/self/status", 10)
