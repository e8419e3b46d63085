"""The `midi-events` codec (note on, note off, wait one tick) and its default corpus, the Bach
chorales that ship with music21 (`chorales.py`, declared by `MidiEventsCodec.sources()`). The
format is specified in `codecs/midi-events/README.md`."""

from rnnmusic.codecs.midi_events.codec import MidiEventsCodec, MidiPiece

__all__ = ["MidiEventsCodec", "MidiPiece"]
