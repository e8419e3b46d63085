"""The `tab` codec: guitar tabs as time-sliced chord columns. See codecs/tab/README.md.

Modules, in the roles every codec package shares (ARCHITECTURE.md, "A codec package"): codec (the
Codec class), alphabet (the text's characters and what its header can state), encoder and
decoder (Tab ↔ text), strict_grammar and strict (strict sampling: the state machine, and each
sample's memory as tensors), corpus (the built-in corpus `folk-tabs`, declared by
`TabCodec.sources()`), profile (what a piece uses). Its own: model (the Tab), readers and writers
per format (ascii_*, gp*, midi, abc_reader, abc_screen), fingering* (strings and frets for MIDI
and ABC melodies)."""

from rnnmusic.codecs.tab.codec import TabCodec, TabPiece

__all__ = ["TabCodec", "TabPiece"]
