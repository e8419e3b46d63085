"""Models that ship inside the package, so a user hears music before training anything.

`rnnmusic/pretrained/models.json` is the registry: each entry names its weights file (a
checkpoint in `rnnmusic/pretrained/`), the codec and built-in corpus it learned, its validation
bits/char next to the corpus's n-gram, and the exact command that trained it. `write_weights` and
`register` turn a finished training run into such an entry (`benchmarks/shipped_models.py`).
Reading the registry imports neither torch nor a codec (`rnnmusic models` stays instant).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnmusic.errors import CheckpointError

if TYPE_CHECKING:
    from rnnmusic.profile import CorpusProfile

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
REGISTRY = PRETRAINED_DIR / "models.json"


@dataclass(frozen=True)
class ShippedModel:
    name: str
    file: str  # in PRETRAINED_DIR
    codec: str
    corpus: str  # the built-in corpus it learned
    about: str
    example: str  # an output file name that shows what it writes
    card: dict[str, Any]  # how it was trained and how well it does (see describe)

    @property
    def path(self) -> Path:
        return PRETRAINED_DIR / self.file


def shipped_models() -> dict[str, ShippedModel]:
    """The registry, in its listed order; empty when the package holds no models."""
    if not REGISTRY.is_file():
        return {}
    entries = json.loads(REGISTRY.read_text(encoding="utf-8"))
    return {
        e["name"]: ShippedModel(
            e["name"], e["file"], e["codec"], e["corpus"], e["about"], e["example"], e["card"]
        )
        for e in entries
    }


def resolve_model(name_or_path: str) -> Path:
    """A run folder or checkpoint file as given; otherwise the shipped model of that name.
    A path that exists wins, so a run folder called `folk` is still yours."""
    path = Path(name_or_path)
    if path.exists():
        return path
    models = shipped_models()
    if name_or_path in models:
        model = models[name_or_path]
        if not model.path.is_file():
            raise CheckpointError(
                f"the shipped model {name_or_path!r} is listed but its weights "
                f"({model.path}) are missing; reinstall rnnmusic"
            )
        return model.path
    names = ", ".join(models) or "none in this installation"
    raise CheckpointError(
        f"{name_or_path} does not exist (no run folder or checkpoint file there) and is not "
        f"the name of a shipped model ({names}; see `rnnmusic models`)"
    )


def describe(model: ShippedModel) -> str:
    """The `rnnmusic models` entry: what it is, how good, how it was made."""
    card = model.card
    size_mb = model.path.stat().st_size / 1e6 if model.path.is_file() else float("nan")
    lines = [
        f"{model.name}: {model.about}",
        f"  codec {model.codec}, corpus {model.corpus}, {card['architecture']}, "
        f"{card['parameters']:,} parameters, {size_mb:.1f} MB",
        f"  validation {card['valid_bpc']:.3f} bits/char (the corpus's Kneser-Ney n-gram: "
        f"{card['ngram_bpc']:.3f}, ratio {card['valid_bpc'] / card['ngram_bpc']:.2f})",
        f"  trained {card['steps']:,} steps ({card['tokens'] / 1e6:.0f} M characters) in "
        f"{card['train_hours']:.1f} h on {card['trained_on']}; these weights are from step "
        f"{card['best_step']:,}, the best validation",
        f"  command: {card['command']}",
        f"  try: rnnmusic generate {model.name} -o {model.example}",
    ]
    return "\n".join(lines)


# -- packaging (development side) -----------------------------------------------------------------

KEEP_META = (
    "codec",
    "codec_options",
    "separator",
    "vocab",
    "model",
    "train",
    "default_sample_length",
    "profile",
    "step",
    "val_loss",
    "best_val_loss",
    "elapsed_s",
)


def write_weights(
    run_dir: Path, name: str, half: bool = True, profile: CorpusProfile | None = None
) -> Path:
    """Copy a run's best checkpoint into the package as `name`: weights only, float16 when
    `half` (half the bytes; measure the bits/char of the copy, not of the run). The metadata
    stays (vocabulary, codec settings, the corpus profile that strict sampling keeps to), but
    not the training machine's corpus path nor the optimizer's state. A `profile` given
    replaces the run's (one worked out again from the corpus holds the facts added since)."""
    import torch

    from rnnmusic.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(Path(run_dir) / "best.safetensors")
    tensors = {k: v for k, v in ckpt.tensors.items() if k.startswith("model.")}
    if half:
        tensors = {k: v.to(torch.float16) for k, v in tensors.items()}
    meta = {k: ckpt.meta[k] for k in KEEP_META if k in ckpt.meta}
    meta["kind"] = "shipped"
    if profile is not None:
        meta["profile"] = profile.to_dict()
    PRETRAINED_DIR.mkdir(exist_ok=True)
    target = PRETRAINED_DIR / f"{name}.safetensors"
    save_checkpoint(target, tensors, meta)
    return target


def register(model: ShippedModel) -> None:
    """Add or replace `model` in the registry (chorales, folk, tabs first, in that order)."""
    entries = [e for e in _entries() if e["name"] != model.name]
    entries.append(dict(model.__dict__))
    order = {"chorales": 0, "folk": 1, "tabs": 2}
    entries.sort(key=lambda e: order.get(e["name"], 99))
    REGISTRY.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _entries() -> list[dict[str, Any]]:
    return json.loads(REGISTRY.read_text(encoding="utf-8")) if REGISTRY.is_file() else []
