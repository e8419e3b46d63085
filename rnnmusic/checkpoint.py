"""Checkpoints: one safetensors file per checkpoint, its JSON metadata in the file's header.

Safetensors holds only raw arrays, so loading a checkpoint someone shared cannot run their code
(a PyTorch pickle can). One file means one atomic rename: a checkpoint is whole or absent.

Tensors:  model.*   the weights
          optim.*   Adam's moments (only in `last`, for exact resume)
          train.*   carried hidden state and RNG state (only in `last`)
"""

from __future__ import annotations

import errno
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from rnnmusic import __version__
from rnnmusic.errors import CheckpointError, RnnMusicError
from rnnmusic.model import CharRNN, ModelConfig
from rnnmusic.profile import CorpusProfile

FORMAT = "rnnmusic-checkpoint"
FORMAT_VERSION = 1
META_KEY = "rnnmusic"
MAX_HEADER = 100 * 1024 * 1024


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    @property
    def vocab(self) -> list[str]:
        return self.meta["vocab"]

    @property
    def codec_name(self) -> str:
        return self.meta["codec"]

    def codec(self):
        from rnnmusic.codecs import get_codec

        return get_codec(self.meta["codec"], **self.meta.get("codec_options", {}))

    @property
    def profile(self) -> CorpusProfile | None:
        """Settings and sizes of the training pieces (None for checkpoints from before they
        were recorded, when their corpus is gone too): strict sampling keeps to them."""
        stored = CorpusProfile.from_dict(self.meta.get("profile"))
        if stored is not None or "corpus_path" not in self.meta:
            return stored
        from rnnmusic.corpus import Corpus

        try:
            corpus = Corpus.load(self.meta["corpus_path"])
        except (RnnMusicError, OSError, TypeError):
            return None
        if corpus.meta.get("codec") != self.codec_name or corpus.vocab != self.vocab:
            return None
        return corpus.profile

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}

    def model(self, device: torch.device | str = "cpu") -> CharRNN:
        """The model with these weights; refuses weights that do not fit the recorded shape."""
        try:
            config = ModelConfig(**self.meta["model"])
            model = CharRNN(config)
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{self.path}: its model settings are invalid ({exc})") from None
        if config.vocab_size != len(self.vocab):
            raise CheckpointError(
                f"{self.path}: its vocabulary has {len(self.vocab)} characters but the model "
                f"was built for {config.vocab_size}; the checkpoint is inconsistent"
            )
        weights = self.group("model")
        expected = model.state_dict()
        missing = sorted(set(expected) - set(weights))
        extra = sorted(set(weights) - set(expected))
        if missing or extra:
            raise CheckpointError(
                f"{self.path}: its weights do not match its model settings "
                f"(missing {missing[:3]}, unexpected {extra[:3]})"
            )
        for name, tensor in weights.items():
            if tensor.shape != expected[name].shape:
                raise CheckpointError(
                    f"{self.path}: weight {name} has shape {tuple(tensor.shape)}, the model "
                    f"settings need {tuple(expected[name].shape)}; the checkpoint is inconsistent"
                )
        model.load_state_dict(weights)
        return model.to(device)


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Write atomically: a temporary file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    meta.setdefault("rnnmusic_version", __version__)
    meta.setdefault("torch_version", torch.__version__)
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    data = save(flat, metadata={META_KEY: json.dumps(meta, ensure_ascii=False)})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise CheckpointError(
            f"could not write checkpoint {path} ({why}); the previous checkpoint is intact"
        ) from None


def _looks_like_safetensors(data: bytes) -> bool:
    """8-byte little-endian header length, then the JSON header itself."""
    if len(data) < 10:
        return False
    (header_len,) = struct.unpack("<Q", data[:8])
    return header_len <= MAX_HEADER and 8 + header_len <= len(data) and data[8:9] == b"{"


def _check_container(path: Path, data: bytes) -> None:
    """Refuse pickles and non-safetensors files before parsing anything."""
    if _looks_like_safetensors(data):
        return
    if data[:2] == b"PK" or (
        data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    ):
        raise CheckpointError(
            f"{path} is a PyTorch pickle checkpoint; rnnmusic loads only safetensors "
            "checkpoints, because unpickling a file can run arbitrary code"
        )
    if len(data) < 10:
        raise CheckpointError(f"{path} is empty or truncated, not an rnnmusic checkpoint")
    raise CheckpointError(f"{path} is not a safetensors file (or it is truncated)")


def resolve_checkpoint_path(path: str | Path) -> Path:
    """A run folder means its best checkpoint (else its last); a file means itself."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.safetensors", "last.safetensors"):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path} holds no checkpoint (best.safetensors or last.safetensors)")
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; give a run folder or a .safetensors file")
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    path = resolve_checkpoint_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path} ({exc.strerror or exc})") from None
    _check_container(path, data)
    try:
        tensors = load(data)
        header = json.loads(data[8 : 8 + struct.unpack("<Q", data[:8])[0]])
        meta = json.loads(header.get("__metadata__", {}).get(META_KEY, "null"))
    except (SafetensorError, json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path} is damaged ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not an rnnmusic checkpoint")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer rnnmusic (checkpoint format "
            f"{meta.get('format_version')}, this version reads {FORMAT_VERSION}); upgrade rnnmusic"
        )
    for key in ("codec", "vocab", "model"):
        if key not in meta:
            raise CheckpointError(f"{path} lacks its {key!r} metadata; the checkpoint is damaged")
    return Checkpoint(path=path, meta=meta, tensors=tensors)
