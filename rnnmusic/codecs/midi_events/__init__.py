"""The `midi-events` codec (note on, note off, wait one tick) and its default corpus, the Bach
chorales that ship with music21. The format is specified in `codecs/midi_events/README.md`.

Modules, in the roles every codec package shares (ARCHITECTURE.md, "A codec package"): codec (the
Codec class), alphabet (the text's characters and how each event is spelled), encoder and decoder
(Score ↔ text), reader and writer (MIDI files ↔ Score), strict_grammar and strict (strict
sampling: the state machine, and the sounding keys as tensors), corpus (`bach-chorales`, declared
by `MidiEventsCodec.sources()`), profile (what a piece uses). Its own: score (the Score),
score_midi (a music21 score as a MIDI file, for the corpus)."""

from rnnmusic.codecs.midi_events.codec import MidiEventsCodec, MidiPiece

__all__ = ["MidiEventsCodec", "MidiPiece"]
