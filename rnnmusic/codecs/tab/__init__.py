"""The `tab` codec: guitar tabs as time-sliced chord columns. See codecs/tab/README.md. Its
built-in corpus, `folk-tabs`, is in `source.py` (declared by `TabCodec.sources()`)."""

from rnnmusic.codecs.tab.codec import TabCodec, TabPiece

__all__ = ["TabCodec", "TabPiece"]
