"""Built-in corpora: music and text that ships inside installed packages, so training needs no
network. Each codec declares its own (`Codec.sources()`); this module asks every codec, built-in
and plug-in, and finds a source by name. Each source lists its files (converting them into the
cache first where needed)."""

from __future__ import annotations

from rnnmusic.codecs.base import Source
from rnnmusic.errors import CorpusError
from rnnmusic.paths import music21_corpus_dir

__all__ = ["Source", "all_sources", "get_source", "music21_corpus_dir"]


def _declared() -> dict[str, Source]:
    """Every codec's sources by name; a name declared twice keeps the first (built-in codecs
    come first, as in the codec registry)."""
    from rnnmusic.codecs import available_codecs, codec_class

    found: dict[str, Source] = {}
    for codec_name in available_codecs():
        declare = getattr(codec_class(codec_name), "sources", None)
        for source in declare() if declare is not None else ():
            found.setdefault(source.name, source)
    return found


def get_source(name: str) -> Source:
    sources = _declared()
    if name not in sources:
        raise CorpusError(
            f"{name!r} is neither a file, a folder nor a built-in corpus "
            f"(built-in: {', '.join(sorted(sources))}; see `rnnmusic corpus list`)"
        )
    return sources[name]


def all_sources() -> list[Source]:
    sources = _declared()
    return [sources[name] for name in sorted(sources)]
