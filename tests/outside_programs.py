"""The programs outside Python that some tests start (abc2midi, FluidSynth and a SoundFont,
MuseScore 3, Chromium, and the Guitar Pro readers TuxGuitar and alphaTab). A test that needs one is marked `@pytest.mark.needs("fluidsynth")`:
where the program is missing it is skipped with the reason and the package to install, so
`make test` passes on a machine with only Python. CI installs them all (`.ci/run`) and sets
RNNMUSIC_REQUIRE_CLIENTS=1, which turns each such skip into a failure: a test that silently
stopped running its real program is caught there."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest

REQUIRE_ENV = "RNNMUSIC_REQUIRE_CLIENTS"


def _soundfont_found() -> bool:
    from rnnmusic.errors import RnnMusicError
    from rnnmusic.render import find_soundfont

    try:
        find_soundfont()
    except RnnMusicError:
        return False
    return True


@dataclass(frozen=True)
class Program:
    what: str  # as a user would call it
    install: str  # how to get it on Debian / Ubuntu
    found: Callable[[], bool]
    why_missing: Callable[[], str | None] | None = None  # a more precise reason, where known

    def reason(self) -> str | None:
        """None where the program is there, else why not and how to install it."""
        if self.why_missing is not None:
            return self.why_missing()
        return None if self.found() else f"{self.what} is not installed ({self.install})"


def _on_path(*names: str) -> Callable[[], bool]:
    return lambda: any(shutil.which(name) for name in names)


def _gp_reader(name: str) -> Callable[[], str | None]:
    """The Guitar Pro readers' own checks (tests/gp_readers.py), which know their set-up."""

    def why() -> str | None:
        import gp_readers

        return getattr(gp_readers, f"{name}_missing")()

    return why


PROGRAMS = {
    "abc2midi": Program("abc2midi", "apt-get install abcmidi", _on_path("abc2midi")),
    "fluidsynth": Program("FluidSynth", "apt-get install fluidsynth", _on_path("fluidsynth")),
    "soundfont": Program(
        "a General MIDI SoundFont", "apt-get install fluid-soundfont-gm", _soundfont_found
    ),
    "mscore3": Program(
        "MuseScore 3 (mscore3)", "apt-get install musescore3", _on_path("mscore3", "musescore3")
    ),
    "chromium": Program("Chromium", "apt-get install chromium", _on_path("chromium")),
    "tuxguitar": Program(
        "TuxGuitar with a Java compiler",
        "apt-get install tuxguitar default-jdk-headless",
        lambda: _gp_reader("tuxguitar")() is None,
        _gp_reader("tuxguitar"),
    ),
    "alphatab": Program(
        "alphaTab on Node.js",
        "apt-get install nodejs npm; npm install --prefix .ci-cache/node @coderline/alphatab@1",
        lambda: _gp_reader("alphatab")() is None,
        _gp_reader("alphatab"),
    ),
}


def required() -> bool:
    """True where the outside programs must be there (CI)."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def _reasons(*names: str) -> str:
    unknown = [name for name in names if name not in PROGRAMS]
    if unknown:
        raise ValueError(f"unknown outside program {unknown[0]!r}; known: {', '.join(PROGRAMS)}")
    return "; ".join(r for r in (PROGRAMS[name].reason() for name in names) if r)


@cache
def missing_reason(*names: str) -> str:
    """'' if every named program is there, else which are not and how to install them."""
    return _reasons(*names)


def skip_or_fail_without(*names: str) -> None:
    """Return if every named program is there; else skip the test (or fail it under CI)."""
    reason = _reasons(*names)
    if not reason:
        return
    if required():
        pytest.fail(f"{reason}, but {REQUIRE_ENV}=1 requires every outside program")
    pytest.skip(reason)


def have(name: str) -> bool:
    """For a test that does more where a program is there: False where it is missing, except
    under CI, where a missing program fails the test."""
    if _reasons(name):
        if required():
            skip_or_fail_without(name)
        return False
    return True
