"""Codec registry: built-in codecs plus any registered by other packages under the entry-point
group `rnnmusic.codecs` (name = "package.module:CodecClass")."""

from __future__ import annotations

import importlib
import warnings
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from rnnmusic.codecs.base import Codec, Option, Piece
from rnnmusic.errors import RnnMusicError

__all__ = ["Codec", "Option", "Piece", "available_codecs", "codec_class", "get_codec"]

# Order matters: `convert` picks the first codec that reads the input and writes the output.
BUILTIN: dict[str, str] = {
    "midi-events": "rnnmusic.codecs.midi_events:MidiEventsCodec",
    "abc": "rnnmusic.codecs.abc:AbcCodec",
    "tab": "rnnmusic.codecs.tab:TabCodec",
    "text": "rnnmusic.codecs.text:TextCodec",
}


def _load(target: str) -> type[Codec] | None:
    """The codec class, or None for a built-in codec that is not (completely) there yet."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, attr, None)


@cache
def _registry() -> dict[str, type[Codec]]:
    found: dict[str, type[Codec]] = {}
    for name, target in BUILTIN.items():
        cls = _load(target)
        if cls is not None:
            found[name] = cls
    for ep in entry_points(group="rnnmusic.codecs"):
        if ep.name in found:
            continue
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # a broken plug-in must not take the built-in codecs down
            warnings.warn(
                f"codec plug-in {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2
            )
    return found


def available_codecs() -> list[str]:
    return list(_registry())


def codec_class(name: str) -> type[Codec]:
    registry = _registry()
    if name not in registry:
        raise RnnMusicError(f"unknown codec {name!r}; available codecs: {', '.join(registry)}")
    return registry[name]


def get_codec(name: str, **options: Any) -> Codec:
    """A codec instance; options not given take the codec's defaults."""
    return codec_class(name)(**options)


def codec_for_paths(source: str | Path, target: str | Path | None = None) -> Codec:
    """The first codec that reads `source`'s extension (and writes `target`'s, if given)."""
    src_ext = Path(source).suffix.lower()
    dst_ext = Path(target).suffix.lower() if target is not None else None
    for cls in _registry().values():
        if src_ext in cls.extensions and (dst_ext is None or dst_ext in cls.writes):
            return cls()
    wanted = f"reads {src_ext or 'extension-less files'}"
    if dst_ext is not None:
        wanted += f" and writes {dst_ext or 'extension-less files'}"
    raise RnnMusicError(f"no codec {wanted}; name one with --codec")
