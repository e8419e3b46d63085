"""DistributedDataParallel on the CPU: two gloo processes launched by torchrun train exactly like
one process with the same global batch, write one set of files, and resume in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import counting_corpus

from rnnmusic.codecs import get_codec
from rnnmusic.corpus import build_corpus

pytestmark = pytest.mark.slow

MODEL = [
    "--hidden-size",
    "32",
    "--num-layers",
    "2",
    "--dropout",
    "0",
    "--batch-size",
    "8",
    "--seq-len",
    "16",
    "--learning-rate",
    "0.005",
    "--eval-every",
    "15",
    "--no-progress",
]


def _train(args, processes: int = 1):
    launcher = [sys.executable, "-m", "rnnmusic"]
    if processes > 1:
        launcher = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={processes}",
            "-m",
            "rnnmusic",
        ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [*launcher, "train", *map(str, args)], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _losses(run_dir, key):
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    return [(r["step"], r[key]) for r in records if key in r]


def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    corpus = build_corpus(
        counting_corpus(tmp_path / "c.txt", pieces=300),
        get_codec("text"),
        tmp_path / "corpus",
        progress=False,
    )
    common = ["--codec", "text", "--corpus", corpus.path, "--max-steps", "30", *MODEL]
    _train([*common, "--out", tmp_path / "one"])
    ddp = _train([*common, "--out", tmp_path / "two"], processes=2)
    assert "× 2 processes" in ddp.stdout

    one, two = _losses(tmp_path / "one", "train_loss"), _losses(tmp_path / "two", "train_loss")
    assert [s for s, _ in one] == [s for s, _ in two] == [10, 20, 30]  # rank 0 alone logs
    for (_, a), (_, b) in zip(one, two, strict=True):
        assert b == pytest.approx(a, rel=1e-4)
    val_one, val_two = _losses(tmp_path / "one", "val_loss"), _losses(tmp_path / "two", "val_loss")
    assert [v for _, v in val_two] == pytest.approx([v for _, v in val_one], rel=1e-4)
    files = sorted(p.name for p in (tmp_path / "two").iterdir() if not p.name.startswith("."))
    assert files == [
        "best.safetensors",
        "last.safetensors",
        "metrics.jsonl",
        "run.json",
        "samples.jsonl",
        "samples.txt",
    ]

    resumed = _train(["--resume", tmp_path / "two", "--max-steps", "40", "--no-progress"])
    assert "finished at step 40" in resumed.stdout
    assert _losses(tmp_path / "two", "train_loss")[-1][0] == 40
