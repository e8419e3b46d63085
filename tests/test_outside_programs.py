"""Tests that start programs outside Python skip where a program is missing, with the package to
install, and fail instead under CI's RNNMUSIC_REQUIRE_CLIENTS=1."""

from __future__ import annotations

import pytest
from outside_programs import PROGRAMS, REQUIRE_ENV, have, skip_or_fail_without


@pytest.fixture
def no_programs(monkeypatch, tmp_path):
    """A machine with only Python: an empty PATH and no SoundFont."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("RNNMUSIC_SOUNDFONT", str(tmp_path / "none.sf2"))


def test_a_missing_program_skips_with_the_package_to_install(no_programs, monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        skip_or_fail_without("fluidsynth", "soundfont")
    reason = str(skipped.value)
    assert "FluidSynth is not installed (apt-get install fluidsynth)" in reason
    assert "SoundFont is not installed (apt-get install fluid-soundfont-gm)" in reason
    assert have("abc2midi") is False


def test_ci_turns_a_missing_program_into_a_failure(no_programs, monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    for name in PROGRAMS:
        with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV}=1 requires"):
            skip_or_fail_without(name)
        with pytest.raises(pytest.fail.Exception):
            have(name)


def test_a_program_that_is_there_is_used(tmp_path, monkeypatch):
    fake = tmp_path / "abc2midi"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(REQUIRE_ENV, "1")
    skip_or_fail_without("abc2midi")  # returns: the test goes on
    assert have("abc2midi") is True


def test_a_misspelt_program_is_an_error_not_a_skip():
    with pytest.raises(ValueError, match="unknown outside program 'fluidsynt'"):
        skip_or_fail_without("fluidsynt")
