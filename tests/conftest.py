"""Shared fixtures: a private cache folder per test session and helpers to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from outside_programs import missing_reason, required, skip_or_fail_without

# The suite runs on two xdist workers on two cores: one math thread each. Two threads per worker
# oversubscribe the cores and make every small op wait on spinning OpenMP threads (7 µs → 20 ms).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Property tests repeat the same examples on every run, so CI is not at the mercy of a new random
# finding; HYPOTHESIS_PROFILE=explore draws fresh ones (findings become @example cases).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*programs): starts programs outside Python (see tests/outside_programs.py)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`@pytest.mark.needs("fluidsynth", …)`: where a program is missing the test is skipped
    with the reason (reported at the test), or fails when RNNMUSIC_REQUIRE_CLIENTS=1 (CI)."""
    for item in items:
        for mark in item.iter_markers("needs"):
            reason = missing_reason(*mark.args)
            if reason and not required():
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        skip_or_fail_without(*mark.args)


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny models: a second math thread only waits for a core that other tests
    hold (on a busy machine each step then takes milliseconds instead of microseconds)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Built-in corpora are cached per test session unless CI points RNNMUSIC_CACHE elsewhere."""
    if "RNNMUSIC_CACHE" not in os.environ:
        os.environ["RNNMUSIC_CACHE"] = str(tmp_path_factory.mktemp("rnnmusic-cache"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _written_midi_files_end_every_note(tmp_path_factory):
    """When the session ends: every .mid file its tests left in their temporary folders has a
    note-off for each note-on (files built as broken input are marked in midi_checks). One
    pass over the files, so it costs a fraction of a second."""
    yield
    from midi_checks import written_midi_problems

    problems = written_midi_problems(tmp_path_factory.getbasetemp())
    if problems:
        pytest.fail("written MIDI with notes that never end:\n" + "\n".join(problems[:20]))


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """The installed command, as a user runs it (exit code, stdout and stderr are all real)."""
    return subprocess.run(
        [sys.executable, "-m", "rnnmusic", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit code 2, one sentence on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr, result.stderr
    assert err.startswith("rnnmusic: error: "), err
    assert len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture
def cli():
    return run_cli
