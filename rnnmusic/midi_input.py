"""Any input as MIDI files: `render` and the piano roll work on MIDI, so ABC tunes, tabs and
sampled pieces go through their codec's `.mid` writer first.

MIDI is validated with mido before anything else reads it: FluidSynth renders a truncated file
without complaint (exit 0, a cut-off WAV) and pretty_midi fails with bare EOFErrors."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mido

from rnnmusic.codecs import Codec, Piece, codec_for_paths
from rnnmusic.codecs.midi_events.reader import load_midi, without_zero_tempos
from rnnmusic.errors import CodecError, RnnMusicError

MIDI_EXTENSIONS = (".mid", ".midi")
MAX_SECONDS = 4 * 3600


@dataclass(frozen=True)
class MidiPart:
    """One piece as a MIDI file; `number` counts from 1 among `total` pieces of the input."""

    midi: Path
    number: int
    total: int


def read_midi(path: str | Path) -> mido.MidiFile:
    """The parsed file, or a CodecError saying why it is not a usable MIDI file.

    Usable means FluidSynth and the piano roll can play it in bounded time: a header with ticks
    per beat (or SMPTE frames), a known file type, and at most `MAX_SECONDS` of music (one
    absurd delta time makes a file last for months, and FluidSynth would write that much
    audio)."""
    midi = load_midi(path)
    if midi.type not in (0, 1, 2):
        raise CodecError(path, f"is a damaged MIDI file (its header gives file type {midi.type})")
    if midi.ticks_per_beat == 0:
        raise CodecError(path, "is a damaged MIDI file (its header gives 0 ticks per beat)")
    seconds = midi_seconds(midi)
    if seconds > MAX_SECONDS:
        raise CodecError(
            path,
            f"lasts {seconds / 3600:,.0f} hours, longer than the {MAX_SECONDS // 3600} hours "
            "rnnmusic plays or draws (a damaged time value?)",
        )
    return midi


def midi_seconds(midi: mido.MidiFile) -> float:
    """Length in seconds; for type 2 (independent patterns, which mido refuses to time) the
    longest track, each timed on its own."""
    if midi.ticks_per_beat < 0:  # SMPTE: frames per second × ticks per frame
        frames, ticks = -(midi.ticks_per_beat >> 8), midi.ticks_per_beat & 0xFF
        longest = max((sum(m.time for m in track) for track in midi.tracks), default=0)
        return longest / max(1, frames * ticks)
    if midi.type != 2:
        return midi.length
    return max(
        (
            mido.MidiFile(type=0, ticks_per_beat=midi.ticks_per_beat, tracks=[track]).length
            for track in midi.tracks
        ),
        default=0.0,
    )


def read_music(path: str | Path):
    """The file as pretty_midi reads it (for the piano roll), after `read_midi`'s checks."""
    import pretty_midi

    midi = read_midi(path)
    if midi.ticks_per_beat < 0:
        raise CodecError(path, "counts time in SMPTE frames, which the piano roll cannot draw")
    if not any(len(track) for track in midi.tracks):  # pretty_midi fails on a file of no events
        return pretty_midi.PrettyMIDI(resolution=midi.ticks_per_beat)
    without_zero_tempos(midi)
    try:
        return pretty_midi.PrettyMIDI(mido_object=midi)
    except Exception as exc:  # pretty_midi fails in many ways on odd but parseable files
        detail = " ".join(str(exc).split()).rstrip(".")[:120] or type(exc).__name__
        raise CodecError(path, f"cannot be read as music ({detail})") from None


def count_notes(midi: mido.MidiFile) -> int:
    return sum(
        1 for track in midi.tracks for msg in track if msg.type == "note_on" and msg.velocity > 0
    )


def numbered_path(out: str | Path, number: int, total: int) -> Path:
    """OUT for a single piece, OUT-1 … OUT-N for several (the `generate -o` convention)."""
    out = Path(out)
    if total == 1:
        return out
    return out.with_name(f"{out.stem}-{number}{out.suffix}")


def require_midi_writer(codec: Codec, what: str) -> None:
    if ".mid" not in codec.writes:
        raise RnnMusicError(
            f"the {codec.name} codec cannot write MIDI, so {what} cannot be turned into "
            f"sound or a piano roll (it writes {', '.join(codec.writes) or 'nothing'})"
        )


@contextmanager
def piece_as_midi(codec: Codec, piece: Piece, folder: str | Path | None = None) -> Iterator[Path]:
    """The piece written by the codec's MIDI writer into a temporary file (removed afterwards)."""
    require_midi_writer(codec, "this piece")
    with tempfile.TemporaryDirectory(prefix="rnnmusic-", dir=folder) as tmp:
        path = Path(tmp) / "piece.mid"
        codec.write(piece, path)
        yield path


@contextmanager
def midi_parts(path: str | Path, codec: Codec | None = None) -> Iterator[list[MidiPart]]:
    """The MIDI file(s) an input stands for.

    A `.mid` file without a codec is used as it is. Anything else (or any file when a codec is
    named) is encoded by the codec, each piece decoded again and written through its MIDI
    writer, so what you hear is what the model sees."""
    path = Path(path)
    if codec is None and path.suffix.lower() in MIDI_EXTENSIONS:
        read_midi(path)
        yield [MidiPart(path, 1, 1)]
        return
    if not path.is_file():
        raise CodecError(path, "does not exist" if not path.exists() else "is not a file")
    if codec is None:
        codec = codec_for_paths(path, "x.mid")
    require_midi_writer(codec, f"{path.name}")
    texts = codec.encode_file(path)
    with tempfile.TemporaryDirectory(prefix="rnnmusic-") as tmp:
        parts = []
        for number, text in enumerate(texts, start=1):
            midi = Path(tmp) / f"piece-{number}.mid"
            codec.write(codec.decode(text), midi)
            parts.append(MidiPart(midi, number, len(texts)))
        yield parts
