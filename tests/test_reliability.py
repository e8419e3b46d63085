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

from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.codecs import get_codec
from rnnmusic.corpus import build_corpus

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
