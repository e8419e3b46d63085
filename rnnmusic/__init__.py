"""rnnmusic: character-level recurrent networks that learn music notations as text.

    from rnnmusic import get_codec, build_corpus, fit, TrainConfig, load_checkpoint, generate

Names are imported on first use, so `rnnmusic encode` does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Checkpoint": "rnnmusic.checkpoint",
    "load_checkpoint": "rnnmusic.checkpoint",
    "available_codecs": "rnnmusic.codecs",
    "get_codec": "rnnmusic.codecs",
    "Corpus": "rnnmusic.corpus",
    "build_corpus": "rnnmusic.corpus",
    "CheckpointError": "rnnmusic.errors",
    "CodecError": "rnnmusic.errors",
    "CorpusError": "rnnmusic.errors",
    "RnnMusicError": "rnnmusic.errors",
    "PRESETS": "rnnmusic.presets",
    "CharRNN": "rnnmusic.model",
    "ModelConfig": "rnnmusic.model",
    "SampleConfig": "rnnmusic.sample",
    "generate": "rnnmusic.sample",
    "TrainConfig": "rnnmusic.train",
    "fit": "rnnmusic.train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rnnmusic' has no attribute {name!r}")
