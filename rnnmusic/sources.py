"""Built-in corpora: music and text that ships inside installed packages, so training needs no
network. Each source lists its files (converting them into the cache first where needed)."""

from __future__ import annotations

import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnmusic.errors import CorpusError


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    licence: str
    codecs: tuple[str, ...]
    files: Callable[[], list[Path]]  # may convert into the cache on first use
    raw_files: Callable[[], list[Path]]  # the shipped files, for `corpus list` (cheap)


def _python_stdlib() -> list[Path]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in lib.glob("*.py") if p.is_file())


def _music21_corpus_dir() -> Path:
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


register(
    Source(
        name="python-stdlib",
        description="the Python standard library's top-level modules: source code for the text "
        "codec, as char-rnn learned C from the Linux kernel",
        licence="PSF License",
        codecs=("text",),
        files=_python_stdlib,
        raw_files=_python_stdlib,
    )
)


def _load_codec_sources() -> None:
    """Codec modules register their own sources (e.g. the Bach chorales) when imported."""
    from rnnmusic.codecs import available_codecs, codec_class

    for name in available_codecs():
        codec_class(name)


def get_source(name: str) -> Source:
    _load_codec_sources()
    if name not in SOURCES:
        raise CorpusError(
            f"{name!r} is neither a file, a folder nor a built-in corpus "
            f"(built-in: {', '.join(sorted(SOURCES))}; see `rnnmusic corpus list`)"
        )
    return SOURCES[name]


def all_sources() -> list[Source]:
    _load_codec_sources()
    return [SOURCES[name] for name in sorted(SOURCES)]


def music21_corpus_dir() -> Path:
    return _music21_corpus_dir()
