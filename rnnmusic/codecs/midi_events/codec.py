"""The midi-events codec: MIDI files ↔ note-on / note-off / wait-one-tick text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnmusic.codecs.base import Codec, Option, Piece, Source
from rnnmusic.codecs.midi_events.alphabet import MAX_VELOCITY_BINS
from rnnmusic.codecs.midi_events.decoder import decode_text
from rnnmusic.codecs.midi_events.encoder import encode_score
from rnnmusic.codecs.midi_events.profile import piece_facts
from rnnmusic.codecs.midi_events.reader import Selection, read_midi_file, scores_from_midi
from rnnmusic.codecs.midi_events.score import Score, VelocityBins
from rnnmusic.codecs.midi_events.writer import write_midi
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import CorpusProfile, PieceFacts

MAX_TICKS_PER_BEAT = 96


@dataclass
class MidiPiece(Piece):
    """A decoded piece: the text, its repairs, and the score the MIDI file is written from."""

    score: Score | None = None


class MidiEventsCodec(Codec):
    name = "midi-events"
    description = "MIDI as note-on, note-off and wait-one-tick events on a uniform grid"
    profile_version = 2  # 2: body_meter
    extensions = (".mid", ".midi")
    writes = (".mid",)
    separator = "\n\n"  # a piece never holds an empty line
    default_corpus = "bach-chorales"
    OPTIONS = (
        Option(
            "ticks_per_beat",
            int,
            4,
            "grid ticks per quarter note: 4 = sixteenth notes, 12 also holds triplets",
        ),
        Option(
            "velocity_bins",
            int,
            0,
            "loudness steps kept (0 or 1: none, every note plays at velocity 80; at most 16)",
        ),
        Option(
            "track", int, None, "keep only this MIDI track (counting from 1 as stored in the file)"
        ),
        Option("drums", bool, True, "keep the drum channel (--no-drums drops drum notes)"),
    )

    @classmethod
    def sources(cls) -> tuple[Source, ...]:
        from rnnmusic.codecs.midi_events.corpus import BACH_CHORALES

        return (BACH_CHORALES,)

    def validate_options(self) -> None:
        if not 1 <= self.ticks_per_beat <= MAX_TICKS_PER_BEAT:
            raise RnnMusicError(
                f"--ticks-per-beat must lie between 1 and {MAX_TICKS_PER_BEAT}, "
                f"got {self.ticks_per_beat}"
            )
        if not 0 <= self.velocity_bins <= MAX_VELOCITY_BINS:
            raise RnnMusicError(
                f"--velocity-bins must lie between 0 and {MAX_VELOCITY_BINS}, "
                f"got {self.velocity_bins}"
            )
        if self.track is not None and self.track < 1:
            raise RnnMusicError(f"--track counts from 1, got {self.track}")

    @property
    def bins(self) -> VelocityBins | None:
        return VelocityBins(self.velocity_bins) if self.velocity_bins > 1 else None

    def encode_file(self, path: str | Path) -> list[str]:
        self.check_extension(path)
        midi = read_midi_file(path)
        selection = Selection(track=self.track, drums=self.drums)
        scores = scores_from_midi(midi, path, self.ticks_per_beat, selection)
        bins = self.bins
        return [encode_score(score, bins) for score in scores]

    def decode(self, text: str) -> MidiPiece:
        score, repairs = decode_text(text, self.ticks_per_beat, self.bins)
        return MidiPiece(text=text, repairs=repairs, score=score)

    def piece_facts(self, text: str) -> PieceFacts:
        return piece_facts(text)

    def count_notes(self, piece: Piece) -> int:
        if not isinstance(piece, MidiPiece) or piece.score is None:
            piece = self.decode(piece.text)
        return len(piece.score.notes)

    def constraint(self, vocab: list[str], profile: CorpusProfile | None = None):
        """`generate --strict`: only text that decodes with zero repairs, with the settings
        and sizes of the training pieces (see strict.py)."""
        from rnnmusic.codecs.midi_events.strict import MidiEventsConstraint

        return MidiEventsConstraint(vocab, self.ticks_per_beat, self.velocity_bins, profile)

    def write(self, piece: Piece, path: str | Path) -> None:
        self.check_output(path)
        if not isinstance(piece, MidiPiece) or piece.score is None:
            piece = self.decode(piece.text)
        write_midi(piece.score, path)
