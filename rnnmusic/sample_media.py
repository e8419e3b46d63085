"""Sound and pictures for sampled pieces (`generate --wav / --plot`): a WAV and a piano roll next
to each written sample, through the codec's MIDI writer when the sample is not MIDI itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rnnmusic.codecs import Codec, Piece
from rnnmusic.errors import CodecError
from rnnmusic.midi_input import MIDI_EXTENSIONS, piece_as_midi, require_midi_writer
from rnnmusic.plots import piano_roll
from rnnmusic.render import find_soundfont, fluidsynth_program, render_midi


def check_media_possible(codec: Codec, wav: bool, plot: bool, soundfont: str | None) -> None:
    """Fail before sampling, not after: the codec must write MIDI and FluidSynth must be there."""
    if wav or plot:
        require_midi_writer(codec, "its samples")
    if wav:
        fluidsynth_program()
        find_soundfont(soundfont)


@contextmanager
def _midi_of(codec: Codec, written: Path, piece: Piece) -> Iterator[Path]:
    if written.suffix.lower() in MIDI_EXTENSIONS:
        yield written
    else:
        with piece_as_midi(codec, piece) as midi:
            yield midi


def write_media(
    codec: Codec,
    written: list[tuple[Path, Piece]],
    wav: bool,
    plot: bool,
    soundfont: str | None = None,
    report: Callable[[str], None] = print,
) -> None:
    """For each (file written, piece): FILE.png (piano roll) and/or FILE.wav (audio)."""
    for target, piece in written:
        with _midi_of(codec, target, piece) as midi:
            if plot:
                png = target.with_suffix(".png")
                piano_roll(midi, png, title=target.name)
                report(f"wrote {png}")
            if wav:
                audio = target.with_suffix(".wav")
                try:
                    done = render_midi(midi, audio, soundfont)
                except CodecError as exc:  # e.g. a sample with no notes: nothing to hear
                    report(f"no audio for {target}: it {exc.reason}")
                    continue
                report(f"wrote {audio} ({done.seconds:.1f} s)")
