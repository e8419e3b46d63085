"""The typed schema of a checkpoint's metadata, checked before anything is allocated from it.

A checkpoint is a file people share, so every number in its metadata is a claim from outside:
`hidden_size: 10**9` would allocate terabytes, a version given as a string would crash a
comparison, a repeated vocabulary entry would print one character as another. Each field has a
type and bounds here; a checkpoint that breaks one is refused with a sentence naming the field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnmusic.errors import CheckpointError
from rnnmusic.model import CELLS

MAX_VOCAB = 65536  # a corpus holds at most this many distinct characters (corpus.py)
MAX_HIDDEN = 16384
MAX_LAYERS = 64
MAX_SAMPLE_LENGTH = 1_000_000  # the most characters one sample may have (SampleConfig)
MAX_NAME = 200


@dataclass(frozen=True)
class Int:
    low: int
    high: int | None = None

    def check(self, value: Any) -> str | None:
        if type(value) is not int:  # bool is an int subclass, and "2" is not a number
            return f"must be a whole number, not {_shown(value)}"
        if value < self.low or (self.high is not None and value > self.high):
            high = f"{self.high:,}" if self.high is not None else "any"
            return f"must lie between {self.low:,} and {high}, not {value:,}"
        return None


@dataclass(frozen=True)
class Number:
    low: float = -math.inf
    high: float = math.inf
    allow_inf: bool = False  # losses are +inf before the first validation

    def check(self, value: Any) -> str | None:
        if type(value) not in (int, float):
            return f"must be a number, not {_shown(value)}"
        if math.isnan(value) or (math.isinf(value) and not self.allow_inf):
            return f"must be a finite number, not {value}"
        if not math.isinf(value) and not self.low <= value <= self.high:
            return f"must lie between {self.low:g} and {self.high:g}, not {value:g}"
        return None


@dataclass(frozen=True)
class Str:
    max_length: int = MAX_NAME
    choices: tuple[str, ...] | None = None
    min_length: int = 0

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be text, not {_shown(value)}"
        if not self.min_length <= len(value) <= self.max_length:
            return f"must be {self.min_length} to {self.max_length} characters long"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, not {value!r}"
        return None


@dataclass(frozen=True)
class Bool:
    def check(self, value: Any) -> str | None:
        return None if type(value) is bool else f"must be true or false, not {_shown(value)}"


@dataclass(frozen=True)
class Dict:
    def check(self, value: Any) -> str | None:
        return None if isinstance(value, dict) else f"must be an object, not {_shown(value)}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


REQUIRED = {
    "codec": Str(64, min_length=1),
    "vocab": None,  # checked on its own below
    "model": Dict(),
}
OPTIONAL = {
    "codec_options": Dict(),
    "separator": Str(64, min_length=1),
    "default_sample_length": Int(1, MAX_SAMPLE_LENGTH),
    "train": Dict(),
    "corpus_path": Str(4096),
    "kind": Str(16),
    "step": Int(0),
    "val_loss": Number(0, allow_inf=True),
    "best_val_loss": Number(0, allow_inf=True),
    "elapsed_s": Number(0),
    "world_size": Int(1, 1 << 16),
    "optimizer": Dict(),
    "lr_progress": Number(0, 1),  # how far the learning-rate decay has come
    "rnnmusic_version": Str(),
    "torch_version": Str(),
    "checksum": Str(32),
    "profile": Dict(),  # its contents are checked by CorpusProfile.from_dict
}
MODEL = {
    "vocab_size": Int(1, MAX_VOCAB),
    "hidden_size": Int(1, MAX_HIDDEN),
    "num_layers": Int(1, MAX_LAYERS),
    "dropout": Number(0, 0.999),
    "cell": Str(8, CELLS),
}
MODEL_OPTIONAL = {"tie_weights": Bool()}
TRAIN = {  # the settings eval reads from `train` (the rest are checked when a run resumes)
    "batch_size": Int(1, 1 << 16),
    "seq_len": Int(1, 1 << 16),
}  # absent in checkpoints written before it existed
CODEC_OPTION_TYPES = (str, int, float, bool, type(None))


def check_meta(meta: Any, path: Path) -> dict[str, Any]:
    """`meta` itself when every field has its type and bounds; else a CheckpointError."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} is a safetensors file but not an rnnmusic checkpoint")
    for key in REQUIRED:
        if key not in meta:
            raise CheckpointError(f"{path} lacks its {key!r} metadata; the checkpoint is damaged")
    for key, rule in {**REQUIRED, **OPTIONAL}.items():
        if rule is not None and key in meta:
            _apply(rule, meta[key], key, path)
    _check_vocab(meta["vocab"], path)
    model = meta["model"]
    for key, rule in MODEL.items():
        if key not in model:
            raise CheckpointError(
                f"{path}: its model settings lack {key!r}; the checkpoint is damaged"
            )
        _apply(rule, model[key], f"model.{key}", path)
    for key, rule in MODEL_OPTIONAL.items():
        if key in model:
            _apply(rule, model[key], f"model.{key}", path)
    unknown = sorted(set(model) - set(MODEL) - set(MODEL_OPTIONAL))
    if unknown:
        raise CheckpointError(f"{path}: its model settings hold an unknown field {unknown[0]!r}")
    if model["vocab_size"] != len(meta["vocab"]):
        raise CheckpointError(
            f"{path}: its vocabulary has {len(meta['vocab'])} characters but the model was "
            f"built for {model['vocab_size']}; the checkpoint is inconsistent"
        )
    for key, rule in TRAIN.items():
        if key in meta.get("train", {}):
            _apply(rule, meta["train"][key], f"train.{key}", path)
    for name, value in meta.get("codec_options", {}).items():
        if not isinstance(value, CODEC_OPTION_TYPES):
            raise CheckpointError(f"{path}: codec option {name!r} is {_shown(value)}, not a value")
    return meta


def _apply(rule, value: Any, name: str, path: Path) -> None:
    problem = rule.check(value)
    if problem is not None:
        raise CheckpointError(f"{path}: its metadata field {name!r} {problem}")


def _check_vocab(vocab: Any, path: Path) -> None:
    """One character per entry, each once: a repeated entry makes two ids print alike."""
    if not isinstance(vocab, list) or not vocab:
        raise CheckpointError(f"{path}: its vocabulary must be a non-empty list of characters")
    if len(vocab) > MAX_VOCAB:
        raise CheckpointError(
            f"{path}: its vocabulary has {len(vocab):,} entries, more than the {MAX_VOCAB:,} a "
            "corpus can hold"
        )
    for index, entry in enumerate(vocab):
        if not isinstance(entry, str) or len(entry) != 1:
            raise CheckpointError(
                f"{path}: vocabulary entry {index} is {_shown(entry)}, not one character"
            )
    if len(set(vocab)) != len(vocab):
        seen: set[str] = set()
        repeated = next(ch for ch in vocab if ch in seen or seen.add(ch))
        raise CheckpointError(
            f"{path}: its vocabulary lists {repeated!r} twice; the checkpoint is damaged"
        )


def check_version(meta: Any, path: Path, fmt: str, version: int) -> None:
    """The format marker and version, before any other field is trusted."""
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise CheckpointError(f"{path} is a safetensors file but not an rnnmusic checkpoint")
    found = meta.get("format_version", 0)
    if type(found) is not int:
        raise CheckpointError(
            f"{path}: its format version is {_shown(found)}, not a whole number; the checkpoint "
            "is damaged"
        )
    if found > version:
        raise CheckpointError(
            f"{path} was written by a newer rnnmusic (checkpoint format {found}, this version "
            f"reads {version}); upgrade rnnmusic"
        )


RESUME = {
    "train": Dict(),
    "optimizer": Dict(),
    "step": Int(0),
    "corpus_path": Str(4096, min_length=1),
}


def check_resumable(meta: dict[str, Any], path: Path) -> None:
    """What `train --resume` needs beyond the model: settings, optimiser state, the step."""
    for key, rule in RESUME.items():
        if key not in meta:
            raise CheckpointError(
                f"{path} lacks its {key!r} metadata, so training cannot resume from it; the "
                "checkpoint is damaged"
            )
        _apply(rule, meta[key], key, path)
    groups = meta["optimizer"].get("param_groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise CheckpointError(f"{path}: its optimizer state is damaged; training cannot resume")
