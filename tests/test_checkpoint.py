"""Checkpoints load from safetensors + JSON only, and refuse anything unsafe or inconsistent."""

from __future__ import annotations

import json
import math
import pickle
import struct

import pytest
import torch
from helpers import counting_corpus, tiny_config
from safetensors.torch import save_file

from rnnmusic.checkpoint import load_checkpoint, save_checkpoint
from rnnmusic.errors import CheckpointError
from rnnmusic.model import ModelConfig
from rnnmusic.train import fit


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ckpt")
    fit(tiny_config(counting_corpus(tmp / "c.txt"), tmp / "run", max_steps=10, eval_every=10))
    return tmp / "run"


def _rewrite(src, dst, mutate_meta=None, mutate_tensors=None):
    ckpt = load_checkpoint(src)
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "format_version")}
    tensors = dict(ckpt.tensors)
    if mutate_meta:
        mutate_meta(meta)
    if mutate_tensors:
        mutate_tensors(tensors)
    save_checkpoint(dst, tensors, meta)
    return dst


def test_round_trip_keeps_weights_and_metadata(run_dir, tmp_path):
    ckpt = load_checkpoint(run_dir / "last.safetensors")
    copy = _rewrite(run_dir / "last.safetensors", tmp_path / "copy.safetensors")
    again = load_checkpoint(copy)
    assert again.meta["vocab"] == ckpt.meta["vocab"]
    assert again.meta["step"] == ckpt.meta["step"] == 10
    for name, tensor in ckpt.tensors.items():
        assert torch.equal(tensor, again.tensors[name])
    model = again.model()
    assert model.config.vocab_size == len(ckpt.vocab)
    # the metadata is plain JSON in the safetensors header: readable without rnnmusic
    raw = copy.read_bytes()
    header = json.loads(raw[8 : 8 + struct.unpack("<Q", raw[:8])[0]])
    assert json.loads(header["__metadata__"]["rnnmusic"])["codec"] == "text"


def test_metadata_is_read_through_its_typed_fields(run_dir, tmp_path):
    last = load_checkpoint(run_dir / "last.safetensors")
    info, meta = last.info, last.meta
    assert (info.codec, info.vocab, info.step, info.kind) == ("text", meta["vocab"], 10, "last")
    assert info.model == ModelConfig(**meta["model"])
    assert (info.train.batch_size, info.train.seq_len) == (16, 32)
    assert info.corpus_path == meta["corpus_path"] and info.separator == meta["separator"]
    assert info.default_sample_length == meta["default_sample_length"]
    assert (info.val_loss, info.best_val_loss) == (meta["val_loss"], meta["best_val_loss"])
    assert info.optimizer_groups == meta["optimizer"]["param_groups"]
    assert info.world_size == 1 and info.lr_progress == meta["lr_progress"]
    # a shipped-style file holds only what sampling needs: the rest reads as never recorded
    keep = ("codec", "vocab", "model")
    bare = load_checkpoint(
        _rewrite(
            run_dir / "best.safetensors",
            tmp_path / "bare.safetensors",
            mutate_meta=lambda m: [m.pop(k) for k in list(m) if k not in keep],
        )
    ).info
    assert (bare.step, bare.train, bare.corpus_path, bare.separator, bare.profile) == (None,) * 5
    assert (bare.codec_options, bare.default_sample_length, bare.world_size) == ({}, 2000, 1)
    assert bare.val_loss == bare.best_val_loss == math.inf and bare.elapsed_s == 0.0
    assert bare.optimizer_groups is None and bare.lr_progress is None


def test_pickle_checkpoints_are_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle code ran')",))

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"x": Boom()}))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(evil)
    torch_file = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, torch_file)
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(torch_file)


def test_truncated_and_foreign_files_are_refused(run_dir, tmp_path):
    data = (run_dir / "best.safetensors").read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged|truncated"):
        load_checkpoint(cut)
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(3)}, plain)
    with pytest.raises(CheckpointError, match="not an rnnmusic checkpoint"):
        load_checkpoint(plain)


def test_inconsistent_checkpoints_are_refused(run_dir, tmp_path):
    src = run_dir / "best.safetensors"

    def wrong_shape(tensors):
        tensors["model.head.bias"] = torch.zeros(3)

    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(
            _rewrite(src, tmp_path / "a.safetensors", mutate_tensors=wrong_shape)
        ).model()

    def short_vocab(meta):
        meta["vocab"] = meta["vocab"][:-1]

    with pytest.raises(CheckpointError, match="vocabulary"):
        load_checkpoint(_rewrite(src, tmp_path / "b.safetensors", mutate_meta=short_vocab)).model()


def test_tied_weights_are_optional_metadata_and_checked(run_dir, tmp_path):
    src = run_dir / "best.safetensors"
    older = _rewrite(  # written before weight tying existed
        src, tmp_path / "old.safetensors", mutate_meta=lambda m: m["model"].pop("tie_weights")
    )
    model = load_checkpoint(older).model()
    assert not model.config.tie_weights and model.head.weight is not model.embed.weight

    def says_yes(meta):
        meta["model"]["tie_weights"] = "yes"

    with pytest.raises(CheckpointError, match="tie_weights.*true or false"):
        load_checkpoint(_rewrite(src, tmp_path / "yes.safetensors", mutate_meta=says_yes))


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("lr_progress", 7.5, "'lr_progress' must lie between 0 and 1"),
        ("lr_progress", "half", "'lr_progress' must be a number"),
        ("batch_size", 10**9, "'train.batch_size' must lie between 1 and 65,536"),
        ("seq_len", "100", "'train.seq_len' must be a whole number"),
    ],
)
def test_settings_eval_and_resume_read_are_checked_on_load(
    run_dir, tmp_path, field, value, problem
):
    """eval reads the training batch and sequence length to score the validation split; a
    shared file asking for a billion streams is refused when it loads, with the field named."""

    def set_field(meta):
        (meta if field == "lr_progress" else meta["train"])[field] = value

    src = run_dir / "last.safetensors"
    with pytest.raises(CheckpointError, match=problem):
        load_checkpoint(_rewrite(src, tmp_path / "bad.safetensors", mutate_meta=set_field))


def test_newer_format_versions_are_refused(run_dir, tmp_path):
    ckpt = load_checkpoint(run_dir / "best.safetensors")
    meta = dict(ckpt.meta, format_version=99)
    target = tmp_path / "future.safetensors"
    from safetensors.torch import save

    target.write_bytes(save(ckpt.tensors, metadata={"rnnmusic": json.dumps(meta)}))
    with pytest.raises(CheckpointError, match="newer rnnmusic"):
        load_checkpoint(target)


def test_failed_write_leaves_the_previous_checkpoint_intact(run_dir, tmp_path, monkeypatch):
    import errno
    import os

    target = tmp_path / "last.safetensors"
    _rewrite(run_dir / "last.safetensors", target)
    before = target.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(CheckpointError, match="disk is full.*previous checkpoint is intact"):
        _rewrite(run_dir / "best.safetensors", target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["last.safetensors"]
