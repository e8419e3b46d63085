"""Which torch device a command runs on: one place, so training, sampling and eval agree and
an unavailable device is a one-sentence error."""

from __future__ import annotations

import torch

from rnnmusic.errors import RnnMusicError


def pick_device(name: str = "auto") -> torch.device:
    """cuda, then mps, then cpu; an explicit name that is not available is a clear error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise RnnMusicError(
            f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RnnMusicError("--device cuda was asked for, but this PyTorch sees no CUDA GPU")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise RnnMusicError("--device mps was asked for, but MPS is not available here")
    return device
