"""Inputs and measurements for the audio, picture and inspect tests: MIDI files built with
pretty_midi, WAV analysis with numpy, and a small melody codec so the tests do not depend on the
real music codecs."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pretty_midi

from rnnmusic.codecs import Codec, Piece
from rnnmusic.codecs.text import read_text_file
from rnnmusic.errors import CodecError

Note = tuple[int, float, float]  # pitch, start s, end s


def write_midi(path: Path, *parts: list[Note], programs: tuple[int, ...] = (0,)) -> Path:
    """A MIDI file with one instrument per part (General MIDI program numbers)."""
    music = pretty_midi.PrettyMIDI(initial_tempo=120)
    for number, notes in enumerate(parts):
        inst = pretty_midi.Instrument(program=programs[number % len(programs)])
        for pitch, start, end in notes:
            inst.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=start, end=end))
        music.instruments.append(inst)
    music.write(str(path))
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono samples in [-1, 1] and the sample rate."""
    with wave.open(str(path), "rb") as reader:
        assert reader.getsampwidth() == 2
        frames = reader.readframes(reader.getnframes())
        channels, rate = reader.getnchannels(), reader.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).astype(np.float64) / 32768
    return samples.mean(axis=1), rate


def envelope(samples: np.ndarray, rate: int, window_s: float = 0.01) -> np.ndarray:
    """RMS per window."""
    size = int(rate * window_s)
    usable = len(samples) // size * size
    return np.sqrt((samples[:usable].reshape(-1, size) ** 2).mean(axis=1))


def audible_span(path: Path, below_peak_db: float = 40.0) -> tuple[float, float]:
    """First and last moment (s) the sound is within `below_peak_db` of its loudest window."""
    samples, rate = read_wav(path)
    env = envelope(samples, rate)
    loud = np.flatnonzero(env > env.max() * 10 ** (-below_peak_db / 20))
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def loudness_between(path: Path, start: float, end: float) -> float:
    samples, rate = read_wav(path)
    part = samples[int(start * rate) : int(end * rate)]
    return float(np.sqrt((part**2).mean()))


def run_with_env(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The CLI with a chosen environment (e.g. a PATH without fluidsynth)."""
    return subprocess.run(
        [sys.executable, "-m", "rnnmusic", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
    )


# -- a small melody codec -----------------------------------------------------------------------

STEP_S = 0.25  # an eighth note at 120 bpm
PITCHES = {
    **{ch: 60 + off for ch, off in zip("cdefgab", (0, 2, 4, 5, 7, 9, 11), strict=True)},
    **{ch: 72 + off for ch, off in zip("CDEFGAB", (0, 2, 4, 5, 7, 9, 11), strict=True)},
}
HOLD, REST = "-", "."


class ScaleCodec(Codec):
    """One character per eighth note at 120 bpm: c–b play octave 4, C–B octave 5, '-' holds the
    note before, '.' rests, a line break is ignored. Pieces are separated by a blank line."""

    name = "scale"
    description = "test melodies, one character per eighth note"
    extensions = (".notes",)
    writes = (".mid", ".notes")
    separator = "\n\n"

    def encode_file(self, path) -> list[str]:
        text = read_text_file(path, self.name)
        pieces = [p.strip("\n") for p in text.split("\n\n") if p.strip()]
        if not pieces:
            raise CodecError(path, "holds no melody")
        for piece in pieces:
            bad = sorted(set(piece) - set(PITCHES) - {HOLD, REST, "\n"})
            if bad:
                raise CodecError(path, f"holds characters that are not notes ({bad[0]!r})")
        return pieces

    def decode(self, text: str) -> Piece:
        kept = "".join(ch for ch in text if ch in PITCHES or ch in (HOLD, REST, "\n"))
        dropped = len(text) - len(kept)
        repairs = [f"dropped {dropped} characters that are not notes"] if dropped else []
        return Piece(text=kept.strip("\n"), repairs=repairs)

    def notes(self, text: str) -> list[Note]:
        notes: list[list] = []
        for step, ch in enumerate(text.replace("\n", "")):
            if ch in PITCHES:
                notes.append([PITCHES[ch], step * STEP_S, (step + 1) * STEP_S])
            elif ch == HOLD and notes and notes[-1][2] == step * STEP_S:
                notes[-1][2] = (step + 1) * STEP_S
        return [tuple(n) for n in notes]

    def write(self, piece: Piece, path) -> None:
        if self.check_output(path) == ".notes":
            Path(path).write_text(piece.text + "\n", encoding="utf-8")
        else:
            write_midi(Path(path), self.notes(piece.text))


@contextmanager
def registered_scale_codec() -> Iterator[ScaleCodec]:
    """ScaleCodec registered as 'scale' for in-process use of the API and the CLI."""
    import rnnmusic.codecs as registry

    registry.BUILTIN["scale"] = "viz_helpers:ScaleCodec"
    registry._registry.cache_clear()
    try:
        yield ScaleCodec()
    finally:
        del registry.BUILTIN["scale"]
        registry._registry.cache_clear()


# -- headless Chromium --------------------------------------------------------------------------


def run_chromium(
    url: str, work: Path, *extra: str, netlog: Path | None = None
) -> subprocess.CompletedProcess:
    """Chromium headless (no sandbox, no GPU, its own profile); `netlog` records every network request."""
    profile = work / f"profile-{len(list(work.glob('profile-*')))}"
    profile.mkdir(parents=True)
    command = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1200,900",
        *extra,
    ]
    if netlog is not None:
        command.append(f"--log-net-log={netlog}")
    return subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=180, env={**os.environ}
    )


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked the network for (Chromium's own update and sync traffic, which
    runs under other network isolation keys, is left out)."""
    import json

    log = json.loads(netlog.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start_job or "url" not in params:
            continue
        from_page = str(params.get("network_isolation_key", "")).startswith("file://")
        if from_page and not params["url"].startswith("file:"):
            urls.append(params["url"])
    return urls
