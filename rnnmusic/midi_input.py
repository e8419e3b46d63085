"""Any input as MIDI files: `render` and the piano roll work on MIDI, so ABC tunes, tabs and
sampled pieces go through their codec's `.mid` writer first.

MIDI is validated with mido before anything else reads it: FluidSynth renders a truncated file
without complaint (exit 0, a cut-off WAV) and pretty_midi fails with bare EOFErrors."""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mido

from rnnmusic.codecs import Codec, Piece, codec_for_paths
from rnnmusic.errors import CodecError, RnnMusicError

MIDI_EXTENSIONS = (".mid", ".midi")


@dataclass(frozen=True)
class MidiPart:
    """One piece as a MIDI file; `number` counts from 1 among `total` pieces of the input."""

    midi: Path
    number: int
    total: int


def read_midi(path: str | Path) -> mido.MidiFile:
    """The parsed file, or a CodecError saying why it is not a usable MIDI file."""
    try:
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            raise CodecError(path, "is empty, not a MIDI file")
        return mido.MidiFile(path)
    except IsADirectoryError:
        raise CodecError(path, "is a folder, not a MIDI file") from None
    except FileNotFoundError:
        raise CodecError(path, "does not exist") from None
    except OSError as exc:
        if exc.strerror:  # a real I/O error
            raise CodecError(path, f"cannot be read ({exc.strerror})") from None
        # mido reports a missing "MThd" header as a bare OSError
        raise CodecError(path, "is not a MIDI file (it lacks the MThd header)") from None
    except (EOFError, ValueError, KeyError, IndexError, struct.error) as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise CodecError(path, f"is a damaged or truncated MIDI file{detail}") from None


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
