"""The `midi-events` codec (note on, note off, wait one tick) and its default corpus, the Bach
chorales that ship with music21. The format is specified in `codecs/midi-events/README.md`."""

from rnnmusic.codecs.midi_events import chorales  # noqa: F401  (registers "bach-chorales")
from rnnmusic.codecs.midi_events.codec import MidiEventsCodec, MidiPiece

__all__ = ["MidiEventsCodec", "MidiPiece"]
