"""Audio: MIDI → WAV with FluidSynth and a General MIDI SoundFont, so a sample can be heard.

FluidSynth is an external program. Its failures are quiet (a bad SoundFont or a truncated MIDI
still gives exit 0 and a silent or cut-off WAV), so both inputs are checked here first."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnmusic.atomic_write import atomic_path
from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.midi_input import count_notes, midi_seconds, read_midi

SOUNDFONT_ENV = "RNNMUSIC_SOUNDFONT"
# Where Debian/Ubuntu (fluid-soundfont-gm), Fedora and Arch put a General MIDI SoundFont.
DEFAULT_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
)
INSTALL_FLUIDSYNTH = (
    "install it with `apt-get install fluidsynth fluid-soundfont-gm` "
    "(macOS: `brew install fluid-synth`)"
)
SAMPLE_RATE = 44100
GAIN = 0.5  # FluidSynth's default (0.2) is quiet; above ~0.8 dense chords clip
SILENCE = 10 / 32768  # about -70 dBFS: below this the reverb tail is inaudible
TAIL_PAD_S = 0.25
TIMEOUT_S = 900


@dataclass(frozen=True)
class Rendered:
    wav: Path
    seconds: float  # length of the WAV written
    midi_seconds: float  # length of the MIDI (last event)


def fluidsynth_program() -> str:
    found = shutil.which("fluidsynth")
    if found is None:
        raise RnnMusicError(
            f"FluidSynth is not installed (no `fluidsynth` on PATH); {INSTALL_FLUIDSYNTH}"
        )
    return found


def is_soundfont(path: Path) -> bool:
    """SF2 and SF3 files are RIFF containers of form type 'sfbk'."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"sfbk"


def find_soundfont(given: str | Path | None = None) -> Path:
    """The SoundFont to play with: --soundfont, else $RNNMUSIC_SOUNDFONT, else a system one."""
    if given is None and os.environ.get(SOUNDFONT_ENV):
        given = os.environ[SOUNDFONT_ENV]
    if given is not None:
        path = Path(given).expanduser()
        if not path.is_file():
            raise RnnMusicError(
                f"SoundFont {path} does not exist; pass an existing .sf2 file with --soundfont "
                "or install the default one with `apt-get install fluid-soundfont-gm`"
            )
        if not is_soundfont(path):
            raise RnnMusicError(
                f"{path} is not a SoundFont (.sf2/.sf3 files start with a RIFF 'sfbk' header); "
                "pass a real one with --soundfont"
            )
        return path
    for path in DEFAULT_SOUNDFONTS:
        if is_soundfont(path):
            return path
    raise RnnMusicError(
        "no General MIDI SoundFont was found (looked in /usr/share/sounds/sf2 and "
        "/usr/share/soundfonts); install one with `apt-get install fluid-soundfont-gm` "
        "or pass --soundfont PATH"
    )


def check_wav_output(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise RnnMusicError(
            f"audio is written as WAV; name the output with a .wav extension, not "
            f"{path.suffix or 'no extension'}"
        )
    return path


def render_midi(
    midi: str | Path,
    wav: str | Path,
    soundfont: str | Path | None = None,
    sample_rate: int = SAMPLE_RATE,
    gain: float = GAIN,
) -> Rendered:
    """Synthesise `midi` into `wav`; the file appears whole or not at all."""
    wav = check_wav_output(wav)
    program = fluidsynth_program()
    font = find_soundfont(soundfont)
    parsed = read_midi(midi)
    if count_notes(parsed) == 0:
        raise CodecError(midi, "has no notes, so there is nothing to hear")
    with atomic_path(wav) as tmp:  # the file appears whole or not at all
        command = [
            program,
            "-ni",  # no MIDI input driver, no interactive shell
            "-q",
            "-g",
            str(gain),
            "-r",
            str(sample_rate),
            "-O",
            "s16",
            "-T",
            "wav",
            "-F",
            str(tmp),
            str(font),
            str(Path(midi).resolve()),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise RnnMusicError(
                f"FluidSynth took longer than {TIMEOUT_S} s on {midi}; is the MIDI file hours long?"
            ) from None
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size <= 44:
            said = (done.stderr or done.stdout).strip().splitlines()
            detail = f": {said[-1]}" if said else ""
            raise RnnMusicError(
                f"FluidSynth could not render {midi} (exit {done.returncode}{detail})"
            )
        seconds = trim_silent_tail(tmp)
    return Rendered(wav=wav, seconds=seconds, midi_seconds=midi_seconds(parsed))


def trim_silent_tail(path: Path) -> float:
    """Cut the inaudible end of the reverb tail (FluidSynth renders until every voice is at
    zero: a 10 s melody gives a 20 s file); returns the new length in seconds."""
    with wave.open(str(path), "rb") as reader:
        params = reader.getparams()
        frames = reader.readframes(params.nframes)
    if params.sampwidth != 2:
        return params.nframes / params.framerate
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, params.nchannels)
    loud = np.flatnonzero(np.abs(samples).max(axis=1) > SILENCE * 32768)
    end = len(samples) if len(loud) == 0 else int(loud[-1]) + 1
    end = min(len(samples), end + int(TAIL_PAD_S * params.framerate))
    if end < len(samples):
        with wave.open(str(path), "wb") as writer:
            writer.setparams(params)
            writer.writeframes(samples[:end].tobytes())
    return end / params.framerate
