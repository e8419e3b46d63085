"""The `abc` codec (ABC notation for folk tunes) and its built-in corpus, `folk-abc`.

Modules: reader (files → raw tunes), fields (header values), syntax (body tokens), tune (the
canonical tune and the body-cleaning pass), normalise (raw tunes and model text → tunes),
transpose, codec (the Codec class and writers), play/ (the MIDI player, which plays a tune as
abc2midi does), agreement (how closely it agrees with abc2midi), folk_corpus (the built-in source,
which `AbcCodec.sources()` declares).
"""

from rnnmusic.codecs.abc.codec import AbcCodec, AbcPiece

__all__ = ["AbcCodec", "AbcPiece"]
