"""Checkpoints: one safetensors file per checkpoint, its JSON metadata in the file's header.

Safetensors holds only raw arrays, so loading a checkpoint someone shared cannot run their code
(a PyTorch pickle can). One file means one atomic rename: a checkpoint is whole or absent.

Tensors:  model.*   the weights
          optim.*   Adam's moments (only in `last`, for exact resume)
          train.*   carried hidden state and RNG state (only in `last`)

The metadata is checked against its schema (checkpoint_meta.py) and then read into a typed
`CheckpointInfo` (`Checkpoint.info`); the rest of the package reads its attributes, not the
dict's keys. The dict itself stays in `Checkpoint.meta`, for code that writes a checkpoint again.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from rnnmusic import __version__
from rnnmusic.atomic_write import WriteError, write_bytes
from rnnmusic.bounded_read import parse_json, read_bytes
from rnnmusic.checkpoint_meta import check_meta, check_resumable, check_version
from rnnmusic.errors import CheckpointError, CodecError, RnnMusicError
from rnnmusic.model import CharRNN, ModelConfig
from rnnmusic.profile import CorpusProfile

FORMAT = "rnnmusic-checkpoint"
FORMAT_VERSION = 1
META_KEY = "rnnmusic"
CHECKSUM_KEY = "rnnmusic_checksum"  # blake2b of the metadata text and the tensor bytes
CHECKSUM = "blake2b-256"
MAX_HEADER = 16 * 1024 * 1024
MAX_CHECKPOINT_BYTES = 2 * 1024**3
MAX_WEIGHT = 1e4  # trained weights stay within ±100; larger ones are damage or tampering


class CheckpointWriteError(CheckpointError):
    """A checkpoint could not be written (a full disk); the previous one is intact."""


@dataclass(frozen=True)
class TrainingSettings:
    """The training settings a run started with (`TrainConfig`'s fields, as saved). They are
    checked as a whole only when a run resumes (`TrainConfig.check`)."""

    values: dict[str, Any]

    @property
    def batch_size(self) -> int:
        return self.values["batch_size"]

    @property
    def seq_len(self) -> int:
        return self.values["seq_len"]


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint's metadata, typed: built once when the checkpoint loads, from the dict that
    `check_meta` has validated. A field the file may lack is None, or the value its absence has
    always meant (0 seconds, one process, no validation yet)."""

    codec: str
    codec_options: dict[str, Any]
    vocab: list[str]
    model: ModelConfig
    separator: str | None  # None: the codec's own
    default_sample_length: int  # the length the model was trained to sample
    train: TrainingSettings | None
    corpus_path: str | None  # shipped models leave out the training machine's path
    profile: dict[str, Any] | None  # as stored; Checkpoint.profile reads it
    kind: str | None  # "best", "last" or "shipped"
    step: int | None
    val_loss: float  # infinite before the first validation
    best_val_loss: float
    elapsed_s: float
    lr_progress: float | None  # the decay's progress (None: work it out from the step)
    world_size: int  # the processes that trained it (one RNG state each)
    optimizer_groups: list[dict[str, Any]] | None  # the optimiser's settings (only in `last`)

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> CheckpointInfo:
        train = meta.get("train")
        optimizer = meta.get("optimizer")
        return cls(
            codec=meta["codec"],
            codec_options=meta.get("codec_options", {}),
            vocab=meta["vocab"],
            model=ModelConfig(**meta["model"]),
            separator=meta.get("separator"),
            default_sample_length=meta.get("default_sample_length", 2000),
            train=TrainingSettings(train) if train is not None else None,
            corpus_path=meta.get("corpus_path"),
            profile=meta.get("profile"),
            kind=meta.get("kind"),
            step=meta.get("step"),
            val_loss=meta.get("val_loss", math.inf),
            best_val_loss=meta.get("best_val_loss", math.inf),
            elapsed_s=meta.get("elapsed_s", 0.0),
            lr_progress=meta.get("lr_progress"),
            world_size=meta.get("world_size", 1),
            optimizer_groups=optimizer.get("param_groups") if optimizer is not None else None,
        )


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, Any]  # the metadata as stored: for writing a checkpoint again
    tensors: dict[str, torch.Tensor]
    info: CheckpointInfo  # the metadata, typed: for reading

    @property
    def vocab(self) -> list[str]:
        return self.info.vocab

    @property
    def codec_name(self) -> str:
        return self.info.codec

    def sample_length(self, requested: int | None = None) -> int:
        """`requested`, or the length the model was trained to sample (0 is refused by
        SampleConfig.check, not taken as "the default")."""
        return self.info.default_sample_length if requested is None else requested

    def codec(self):
        from rnnmusic.codecs import get_codec

        return get_codec(self.info.codec, **self.info.codec_options)

    @property
    def profile(self) -> CorpusProfile | None:
        """Settings and sizes of the training pieces (None for checkpoints from before they
        were recorded, when their corpus is gone too): strict sampling keeps to them."""
        stored = CorpusProfile.from_dict(self.info.profile)
        if stored is not None or self.info.corpus_path is None:
            return stored
        from rnnmusic.corpus import Corpus

        try:
            corpus = Corpus.load(self.info.corpus_path)
        except (RnnMusicError, OSError, TypeError):
            return None
        if corpus.codec_name != self.codec_name or corpus.vocab != self.vocab:
            return None
        return corpus.profile

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}

    def model(self, device: torch.device | str = "cpu") -> CharRNN:
        """The model with these weights (their shapes were checked against the settings when
        the checkpoint was loaded, so this allocates no more than the file holds)."""
        model = CharRNN(replace(self.info.model))  # a copy: the model's config is its own
        model.load_state_dict(self.group("model"))
        return model.to(device)

    def require_resumable(self) -> None:
        """A CheckpointError unless `train --resume` can continue from this checkpoint."""
        check_resumable(self.meta, self.path)

    def restore_optimizer(self, optimizer: torch.optim.Optimizer, device) -> None:
        """Put the saved optimiser state (`optimizer_state`) into `optimizer`, built over this
        checkpoint's model; `require_resumable` first."""
        state: dict[int, dict[str, torch.Tensor]] = {}
        for name, tensor in self.group("optim").items():
            index, key = name.split(".", 1)
            state.setdefault(int(index), {})[key] = tensor if key == "step" else tensor.to(device)
        optimizer.load_state_dict({"state": state, "param_groups": self.info.optimizer_groups})


def model_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The weights, named as a checkpoint holds them (`model.*`)."""
    return {f"model.{k}": v for k, v in model.state_dict().items()}


def optimizer_state(
    optimizer: torch.optim.Optimizer,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The optimiser's settings, for the metadata's `optimizer` entry, and its moments, named as
    a checkpoint holds them (`optim.*`): what `Checkpoint.restore_optimizer` puts back."""
    state_dict = optimizer.state_dict()
    tensors = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value)
    return {"param_groups": state_dict["param_groups"]}, tensors


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Write atomically (a whole new file or the old one, never a mix), with a checksum of the
    metadata and tensor bytes so that damage on disk or in a copy is found when loading."""
    path = Path(path)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    meta.setdefault("rnnmusic_version", __version__)
    meta.setdefault("torch_version", torch.__version__)
    meta["checksum"] = CHECKSUM  # so a checksum lost from the header is damage, not age
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    meta_text = json.dumps(meta, ensure_ascii=False)
    unsummed = save(flat, metadata={META_KEY: meta_text})  # the tensor bytes, laid out
    digest = _checksum(meta_text, _tensor_bytes(unsummed))
    data = save(flat, metadata={META_KEY: meta_text, CHECKSUM_KEY: digest})
    try:
        write_bytes(path, data, make_parent=False)
    except WriteError as exc:
        raise CheckpointWriteError(
            f"could not write checkpoint {path} ({exc.why}); the previous checkpoint is intact"
        ) from None


def _header_length(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def _tensor_bytes(data: bytes) -> memoryview:
    """The byte buffer after the safetensors header: every tensor, in the file's layout."""
    return memoryview(data)[8 + _header_length(data) :]


def _checksum(meta_text: str, tensor_bytes: memoryview) -> str:
    digest = hashlib.blake2b(digest_size=32)
    digest.update(meta_text.encode("utf-8"))
    digest.update(tensor_bytes)
    return f"{CHECKSUM}:{digest.hexdigest()}"


def _looks_like_safetensors(data: bytes) -> bool:
    """8-byte little-endian header length, then the JSON header itself."""
    if len(data) < 10:
        return False
    header_len = _header_length(data)
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
    """The checkpoint, after every check that can be made before trusting it: the container,
    the checksum (when it has one: older checkpoints do not), the metadata schema, the tensor
    shapes against the model settings, and finite weights of sane size."""
    path = resolve_checkpoint_path(path)
    try:
        data = read_bytes(path, MAX_CHECKPOINT_BYTES, "an rnnmusic checkpoint")
    except CodecError as exc:
        raise CheckpointError(str(exc)) from None
    _check_container(path, data)
    try:
        header = parse_json(data[8 : 8 + _header_length(data)])
        texts = header.get("__metadata__") or {}
        meta_text = texts.get(META_KEY, "null")
        if not isinstance(meta_text, str):
            raise ValueError("its metadata is not text")
    except (ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path} is damaged ({exc})") from None
    recorded = texts.get(CHECKSUM_KEY)
    if recorded is not None and recorded != _checksum(meta_text, _tensor_bytes(data)):
        raise CheckpointError(
            f"{path} is damaged: its contents do not match the checksum written with them "
            "(bytes changed on disk or in a copy); use another copy or an earlier checkpoint"
        )
    try:
        meta = parse_json(meta_text)
    except ValueError as exc:
        raise CheckpointError(
            f"{path} is damaged (its metadata is not valid JSON: {exc})"
        ) from None
    check_version(meta, path, FORMAT, FORMAT_VERSION)
    if recorded is None and isinstance(meta, dict) and "checksum" in meta:
        raise CheckpointError(
            f"{path} is damaged: it was written with a checksum that is no longer in it; use "
            "another copy or an earlier checkpoint"
        )
    check_meta(meta, path)
    try:
        tensors = load(data)
    except (SafetensorError, ValueError) as exc:
        raise CheckpointError(f"{path} is damaged ({exc})") from None
    ckpt = Checkpoint(path=path, meta=meta, tensors=tensors, info=CheckpointInfo.from_meta(meta))
    _check_weights(ckpt)
    return ckpt


def _check_weights(ckpt: Checkpoint) -> None:
    """Weights that fit the model settings exactly, and numbers a trained model can hold."""
    path = ckpt.path
    with torch.device("meta"):  # the shapes the settings imply, without allocating them
        expected = CharRNN(ckpt.info.model).state_dict()
    weights = ckpt.group("model")
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{path}: its weights do not match its model settings "
            f"(missing {missing[:3]}, unexpected {extra[:3]})"
        )
    for name, tensor in weights.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{path}: weight {name} has shape {tuple(tensor.shape)}, the model "
                f"settings need {tuple(expected[name].shape)}; the checkpoint is inconsistent"
            )
        if not tensor.is_floating_point():
            raise CheckpointError(f"{path}: weight {name} holds {tensor.dtype} values, not floats")
        if tensor.numel() and tensor.abs().max() > MAX_WEIGHT:
            raise CheckpointError(
                f"{path}: weight {name} {_bad_values(tensor)}; the checkpoint is damaged"
            )
    for name, tensor in ckpt.tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(
                f"{path}: tensor {name} {_bad_values(tensor)}; the checkpoint is damaged"
            )


def _bad_values(tensor: torch.Tensor) -> str:
    nan = int(torch.isnan(tensor).sum())
    inf = int(torch.isinf(tensor).sum())
    if nan or inf:
        counts = [f"{n:,} {what}" for n, what in ((nan, "NaN"), (inf, "infinite")) if n]
        return f"holds {' and '.join(counts)} value{'s' if nan + inf > 1 else ''}"
    return (
        f"holds values up to {float(tensor.abs().max()):.3g}, beyond the ±{MAX_WEIGHT:g} "
        "of any trained model"
    )
