"""The `abc` codec (ABC notation for folk tunes) and its built-in corpus, `folk-abc`.

Modules, in the roles every codec package shares (ARCHITECTURE.md, "A codec package"): codec
(the Codec class), alphabet (the body's tokens and their lexer), reader (files → raw tunes),
writer (.abc and .mid files), strict_grammar and strict (strict sampling: the state machine, and
bars that fill the meter), corpus (the built-in source, which `AbcCodec.sources()` declares),
profile (what a tune uses). Its own: fields (header values), tune (the canonical tune and the
body-cleaning pass), normalise (raw tunes and model text → tunes), transpose, play/ (the MIDI
player, which plays a tune as abc2midi does), agreement (how closely it agrees with abc2midi),
clients (music21 and abc2midi), roundtrip.
"""

from rnnmusic.codecs.abc.codec import AbcCodec, AbcPiece

__all__ = ["AbcCodec", "AbcPiece"]
