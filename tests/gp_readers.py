"""Three real Guitar Pro readers, started headless, asked which notes a .gp5 file holds: MuseScore 3
(its MIDI export), TuxGuitar (its own Guitar Pro readers, driven by clients/TuxGuitarNotes.java)
and alphaTab (clients/alphatab_notes.mjs). Each answers per file a set of (tick, pitch) at 960
ticks a quarter, or the error it gave. `*_missing()` says why a reader cannot run here (None
when it can), for pytest's skip reasons. .ci/run installs all three.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import mido

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = Path(__file__).resolve().parent / "clients"
TUXGUITAR = Path("/usr/share/tuxguitar")
TUX_CLASSPATH = f"{TUXGUITAR}/lib/*:{TUXGUITAR}/plugins/*"
ALPHATAB_PLACES = (
    ROOT / ".ci-cache" / "node" / "node_modules" / "@coderline" / "alphatab",
    ROOT / "node_modules" / "@coderline" / "alphatab",
)
MSCORE = shutil.which("mscore3") or shutil.which("musescore3")
TICKS = 960  # per quarter, as all three readers count

Notes = set[tuple[int, int]]


def musescore_missing() -> str | None:
    return None if MSCORE else "MuseScore 3 (mscore3) is not installed (apt-get install musescore3)"


def tuxguitar_missing() -> str | None:
    if not (TUXGUITAR / "plugins" / "tuxguitar-gtp.jar").exists():
        return f"TuxGuitar is not installed ({TUXGUITAR} has no Guitar Pro plugin; apt-get install tuxguitar)"
    if not (shutil.which("javac") and shutil.which("java")):
        return "no Java compiler to drive TuxGuitar's jars (apt-get install default-jdk-headless)"
    return None


def alphatab_dir() -> Path | None:
    given = os.environ.get("ALPHATAB")
    places = (Path(given),) if given else ALPHATAB_PLACES
    return next((p for p in places if (p / "dist" / "alphaTab.mjs").exists()), None)


def alphatab_missing() -> str | None:
    if not shutil.which("node"):
        return "Node.js is not installed, so alphaTab cannot run (apt-get install nodejs npm)"
    if alphatab_dir() is None:
        return (
            "alphaTab is not installed (npm install --prefix .ci-cache/node "
            "@coderline/alphatab@1, or set ALPHATAB to the package folder)"
        )
    return None


def _parse_dump(text: str) -> dict[str, Notes | str]:
    """The drivers' `file` / `note` / `error` lines as {file stem: notes or error}."""
    found: dict[str, Notes | str] = {}
    current = ""
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "file":
            current = Path(rest).stem
            found[current] = set()
        elif kind == "note":
            tick, _string, _fret, pitch, what = rest.split()
            if what != "tie":
                found[current].add((int(tick), int(pitch)))  # type: ignore[union-attr]
        elif kind == "error":
            found[current] = rest
    return found


def tuxguitar_notes(files: list[Path], scratch: Path) -> dict[str, Notes | str]:
    classes = scratch / "tuxguitar-classes"
    classes.mkdir(exist_ok=True)
    source = CLIENTS / "TuxGuitarNotes.java"
    subprocess.run(
        ["javac", "-cp", TUX_CLASSPATH, "-d", str(classes), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    done = subprocess.run(
        ["java", "-cp", f"{TUX_CLASSPATH}:{classes}", "TuxGuitarNotes", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return _parse_dump(done.stdout)


def alphatab_notes(files: list[Path]) -> dict[str, Notes | str]:
    done = subprocess.run(
        ["node", str(CLIENTS / "alphatab_notes.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "ALPHATAB": str(alphatab_dir())},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return _parse_dump(done.stdout)


def midi_notes(path: Path) -> Notes:
    """(tick at 960 a quarter, pitch) of every note-on in a MIDI file."""
    midi = mido.MidiFile(str(path))
    found = set()
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity:
                found.add((round(now * TICKS / midi.ticks_per_beat), message.note))
    return found


def musescore_notes(files: list[Path], scratch: Path) -> dict[str, Notes | str]:
    """Every file converted to MIDI in one MuseScore start (headless, private runtime dir)."""
    outs = {path.stem: scratch / f"{path.stem}.musescore.mid" for path in files}
    job = scratch / "musescore-job.json"
    job.write_text(json.dumps([{"in": str(p), "out": str(outs[p.stem])} for p in files]))
    runtime = scratch / "xdg"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime)}
    done = subprocess.run(
        [MSCORE, "-j", str(job)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        stem: midi_notes(out) if out.exists() else "MuseScore wrote no MIDI"
        for stem, out in outs.items()
    }


def close(a: Notes, b: Notes, ticks: int = 1) -> bool:
    """The same notes, onsets equal within `ticks` (MIDI files of other resolutions round)."""
    if len(a) != len(b):
        return False
    by_pitch: dict[int, list[int]] = {}
    for tick, pitch in b:
        by_pitch.setdefault(pitch, []).append(tick)
    for tick, pitch in a:
        candidates = by_pitch.get(pitch, [])
        match = next((t for t in candidates if abs(t - tick) <= ticks), None)
        if match is None:
            return False
        candidates.remove(match)
    return True
