"""The `tab` codec: guitar tabs as time-sliced chord columns. See codecs/tab/README.md."""

from rnnmusic.codecs.tab import source as _source  # registers the folk-tabs corpus
from rnnmusic.codecs.tab.codec import TabCodec, TabPiece

__all__ = ["TabCodec", "TabPiece"]
del _source
