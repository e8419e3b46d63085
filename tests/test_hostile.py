"""Hostile files for every reader: each is read, or refused with a CodecError that names the file
and says why in one sentence; never another exception, never a hang, never a huge allocation.
And `rnnmusic corpus build` over a folder of them finishes, skips them and counts the reasons.

The files are made from real seeds in `hostile_files.py`; what each reader did with each file is
pinned where it is certain (a 0-byte file is never music; a real file under a path with spaces
and non-ASCII names is always read)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import assert_user_error, run_cli
from hostile_commands import (
    ATTACKS,
    DISK,
    HANGS,
    OPTIONS,
    READS,
    TRAIN,
    WEIGHTS,
    Attack,
    Result,
    build_workspace,
    can_mount,
    fill_when_it_appears,
    judge,
    small_disk,
)
from hostile_files import (
    C_MAJOR,
    END,
    READERS,
    Hostile,
    Reader,
    hostile_cases,
    huge_delta_file,
    smf,
    tempo_event,
    write_case,
)
from reader_checks import (
    CPU_SECONDS,
    HANG_SECONDS,
    PEAK_BYTES,
    assert_one_sentence_naming,
    assert_pieces,
    hang_guard,
    peak_memory,
    read_bounded,
)

from rnnmusic.cli import main as cli_main
from rnnmusic.codecs import get_codec
from rnnmusic.corpus import build_corpus
from rnnmusic.errors import CodecError, RnnMusicError

CASES = [(reader, case) for reader in READERS for case in hostile_cases(reader)]


@pytest.mark.parametrize(
    ("reader", "case"), CASES, ids=[f"{reader.name}:{case.name}" for reader, case in CASES]
)
def test_hostile_file_is_read_or_refused_clearly_in_bounded_time(
    reader: Reader, case: Hostile, tmp_path
):
    if reader.name in case.pending:
        pytest.skip(case.pending[reader.name])
    path = write_case(reader, case, tmp_path)
    outcome, seconds, peak = read_bounded(reader, path, case.memory)
    if isinstance(outcome, CodecError):
        assert case.expect != "read", f"refused: {outcome.reason}"
        assert_one_sentence_naming(outcome, path)
        assert case.reason in outcome.reason, outcome.reason
    else:
        assert case.expect != "error", "read a file that holds no readable music"
        assert_pieces(reader, outcome)
    assert seconds < CPU_SECONDS, f"took {seconds:.1f} s of CPU"
    assert peak < PEAK_BYTES, f"allocated {peak / 1e6:.0f} MB at the peak"


def test_every_reader_meets_every_kind_of_hostile_file():
    """The families the issue lists, for each reader that reads such files."""
    kinds = {reader.name: {case.name for case in hostile_cases(reader)} for reader in READERS}
    for name, cases in kinds.items():
        assert {"empty", "random-1-KB", "odd-path-real-file"} <= cases, name
        assert sum("-cut-at-" in c for c in cases) >= 9, name
        assert any("-named-" in c for c in cases), name
    for name in ("midi-events", "tab-midi", "midi-input"):
        assert {"delta-times-near-2^28", "tempo-0", "ticks-per-beat-32767"} <= kinds[name]
        assert {"10000-simultaneous-notes", "track-claims-4-GB"} <= kinds[name]
    for name in ("abc", "tab-abc"):
        assert {"5000-nested-chord-brackets", "5-MB-line-of-notes"} <= kinds[name]
    for name in ("text", "abc", "tab-ascii", "tab-abc"):
        assert {"latin-1", "utf-16-with-bom", "shift-jis", "5-MB-single-line"} <= kinds[name]
    assert {"guitar-pro-6.00", "guitar-pro-2.21", "guitar-pro-6-bcfz", "zip-named-.gp5"} <= kinds[
        "tab-gp"
    ]


# -- corpus build over a folder of hostile files -----------------------------------------------


def _fill(folder: Path, readers: list[Reader]) -> dict[Path, Hostile]:
    """The hostile files of these readers (that no reader needs seconds for) in one folder."""
    written = {}
    for reader in readers:
        for case in hostile_cases(reader):
            if case.memory or reader.name in case.pending:
                continue  # the five-megabyte files are read above; keep the build quick
            written[write_case(reader, case, folder)] = case
    return written


def _summary_counts(stdout: str) -> dict[str, int]:
    """The `N × reason` lines under `skipped N files:` in the build report."""
    lines = stdout.split("skipped ", 1)[1].splitlines()[1:]
    counts = {}
    for line in lines:
        count, times, reason = line.strip().partition(" × ")
        if not times or not count.isdigit():
            break
        counts[reason] = int(count)
    return counts


@pytest.mark.parametrize(
    ("codec", "reader_names", "jobs"),
    [
        ("midi-events", ["midi-events"], "2"),
        ("text", ["text"], "1"),
    ],
)
def test_corpus_build_skips_hostile_files_and_counts_reasons(
    cli, tmp_path, codec, reader_names, jobs
):
    folder = tmp_path / "scraped"
    readers = [r for r in READERS if r.name in reader_names]
    written = _fill(folder, readers)
    good = folder / "good" / f"real{readers[0].ext}"
    good.parent.mkdir()
    good.write_bytes(readers[0].seeds()[0].data)
    os.mkfifo(folder / f"a pipe{readers[0].ext}")  # reading a named pipe would block forever
    started = time.monotonic()
    result = cli(
        "corpus", "build", folder, "--codec", codec, "-o", tmp_path / "out", "--jobs", jobs
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 120
    report = json.loads((tmp_path / "out" / "corpus.json").read_text())["report"]
    skipped = {Path(p) for p in report["skipped"]}
    must_skip = {path for path, case in written.items() if case.expect == "error"}
    must_read = {path for path, case in written.items() if case.expect == "read"} | {good}
    assert must_skip <= skipped
    assert not must_read & skipped, must_read & skipped
    assert report["files"] == len(written) + 1  # the pipe is not a file to read
    assert report["files_read"] == report["files"] - len(skipped)
    counts = _summary_counts(result.stdout)
    assert f"skipped {len(skipped)} files:" in result.stdout
    assert sum(counts.values()) == len(skipped), result.stdout
    assert len(counts) >= 3, counts  # reasons are told apart, not lumped as "unreadable"
    assert not any(r.startswith("unreadable") for r in report["skipped"].values()), report


@pytest.mark.slow
def test_corpus_build_of_every_tab_kind_with_two_jobs(cli, tmp_path):
    """The tab codec reads four kinds of file; a folder mixing hostile ones of each."""
    folder = tmp_path / "tabs"
    readers = [r for r in READERS if r.name.startswith("tab-")]
    written = _fill(folder, readers)
    out = tmp_path / "out"
    result = cli("corpus", "build", folder, "--codec", "tab", "-o", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "corpus.json").read_text())["report"]
    skipped = {Path(p): reason for p, reason in report["skipped"].items()}
    for path, case in written.items():
        if case.expect == "error":
            assert path in skipped, path
            assert case.reason in skipped[path]
        if case.expect == "read":
            assert path not in skipped, (path, skipped.get(path))
    counts = _summary_counts(result.stdout)
    assert sum(counts.values()) == len(skipped)
    assert not any(r.startswith("unreadable") for r in skipped.values()), skipped


def test_time_limit_stops_a_reader_that_catches_every_exception(tmp_path, monkeypatch):
    """The tab codec reads each ABC tune inside `except Exception` (one bad tune must not lose
    the file): the corpus time limit must still stop it, not be swallowed as one bad tune."""
    from rnnmusic import encoding_pool

    tune = "X:{n}\nT:reel {n}\nM:4/4\nL:1/8\nK:D\n|:d2fd A2FA|d2fd e2ce|d2fd A2FA|Bcde f2d2:|\n"
    big = tmp_path / "src" / "collection.abc"
    big.parent.mkdir()
    big.write_text("\n".join(tune.format(n=n) for n in range(3000)), encoding="utf-8")
    monkeypatch.setattr(encoding_pool, "FILE_SECONDS", 0.5)
    small = tmp_path / "src" / "one.abc"
    small.write_text(tune.format(n=1), encoding="utf-8")
    started = time.monotonic()
    corpus = build_corpus(big.parent, get_codec("tab"), tmp_path / "c", jobs=1, progress=False)
    assert time.monotonic() - started < 5
    assert "took longer than" in corpus.meta["report"]["skipped"][str(big)]


def test_time_limit_survives_a_library_that_swallows_one_alarm(tmp_path, monkeypatch):
    """A reader that swallows one alarm (a bare `except:`) would read the file to the end: the
    limit fires again until the reader stops."""
    from rnnmusic import encoding_pool

    def swallow_once(path):
        swallowed = False
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                time.sleep(0.005)
            except BaseException:
                if swallowed:
                    raise
                swallowed = True
        return ["read to the end"]

    codec = get_codec("text")
    monkeypatch.setattr(codec, "encode_file", swallow_once)
    monkeypatch.setattr(encoding_pool, "FILE_SECONDS", 0.3)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "slow.txt").write_text("never read\n", encoding="utf-8")
    (tmp_path / "src" / "fine.txt").write_text("fine\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(RnnMusicError):  # the only file gives up: nothing left to train on
        build_corpus(tmp_path / "src" / "slow.txt", codec, tmp_path / "c", jobs=1, progress=False)
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_render_and_plot_refuse_absurd_midi_and_play_type_2(cli, tmp_path):
    """The commands people run on a downloaded file: a MIDI file lasting months would have
    FluidSynth write audio for 15 minutes; type 2 and 0 ticks per beat crashed the length."""
    months = tmp_path / "months.mid"
    months.write_bytes(huge_delta_file())
    assert_user_error(cli("render", months, "-o", tmp_path / "m.wav"), "months.mid", "hours")
    zero = tmp_path / "zero.mid"
    zero.write_bytes(smf([C_MAJOR + END], division=0))
    assert_user_error(cli("plot", zero), "zero.mid", "0 ticks per beat")
    assert_user_error(cli("render", zero, "-o", tmp_path / "z.wav"), "0 ticks per beat")
    patterns = tmp_path / "patterns.mid"
    patterns.write_bytes(smf([C_MAJOR + END, tempo_event(0) + C_MAJOR + END], file_type=2))
    result = cli("render", patterns, "-o", tmp_path / "patterns.wav")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "patterns.wav").stat().st_size > 44_100  # half a second, at least
    result = cli("plot", patterns, "-o", tmp_path / "patterns.png")
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.glob("*.tmp*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "months.mid",
        "patterns.mid",
        "patterns.png",
        "patterns.wav",
        "zero.mid",
    ]


def test_tally_of_hostile_files_per_reader():
    """Printed with `pytest -s` for the reliability section of BENCHMARKS.md."""
    tally = Counter(reader.name for reader, _ in CASES)
    print("hostile files per reader:", dict(tally), "total", sum(tally.values()))
    assert all(count >= 40 for count in tally.values()), tally


# -- attacks on the command from outside (issue 18) ---------------------------------------------

ATTACKS_HERE = [a for a in ATTACKS if not a.heavy]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, one_torch_thread):
    return build_workspace(tmp_path_factory.mktemp("attacks"))


@contextlib.contextmanager
def memory_ceiling(extra_bytes: int = 3 * 1024**3):
    """Allocations beyond this much more address space fail in the test instead of taking the
    machine's memory: a regression is a failed test, not an OOM-killed worker."""
    try:
        size = int(re.search(r"VmSize:\s+(\d+) kB", Path("/proc/self/status").read_text())[1])
    except (OSError, TypeError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size * 1024 + extra_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_inside(argv: list[str], stdin: str | None = None) -> Result:
    """`rnnmusic ARGV` in this process: exit code, what it printed, CPU seconds, peak memory."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    started = time.process_time()
    try:
        if stdin is not None:
            sys.stdin = io.TextIOWrapper(open(stdin, "rb"))  # noqa: SIM115 (closed below)
        with (
            peak_memory(fallback=False) as peak,
            hang_guard(HANG_SECONDS),
            memory_ceiling(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = cli_main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        if sys.stdin is not saved_stdin:
            sys.stdin.close()
            sys.stdin = saved_stdin
    return Result(code, out.getvalue(), err.getvalue(), time.process_time() - started, peak[0])


def _params(attacks):
    marks = {True: [pytest.mark.slow], False: []}
    return [pytest.param(a, id=a.name, marks=marks[a.slow]) for a in attacks]


@pytest.mark.parametrize("attack", _params(ATTACKS_HERE))
def test_attack_is_one_sentence_or_correct_output_in_bounds(attack: Attack, workspace, tmp_path):
    """Every case of issue 18: exit 2 with one sentence, or exit 0 and correct output; within
    10 s of CPU and 1 GB; no empty or temporary file left where it wrote."""
    if attack.disk:
        why = can_mount()
        if why:
            pytest.skip(why)
        with small_disk(tmp_path / "disk", full=attack.fill_when is None) as out:
            watcher = (
                fill_when_it_appears(out / attack.fill_when, out) if attack.fill_when else None
            )
            result = run_inside(attack.argv(workspace, out), attack.stdin)
            if watcher is not None:
                watcher.join(timeout=5)
            problems = judge(attack, out, result)
    else:
        out = workspace.scratch(attack.name)
        result = run_inside(attack.argv(workspace, out), attack.stdin)
        problems = judge(attack, out, result)
    assert not problems, problems


def test_every_line_of_issue_18_has_attacks():
    groups = Counter(a.group for a in ATTACKS)
    assert set(groups) == {WEIGHTS, OPTIONS, DISK, READS, HANGS, TRAIN}, groups
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)
    assert sum(a.expect == "ok" for a in ATTACKS) >= 6  # not only refusals


@pytest.mark.slow
def test_attacks_on_files_and_disks_from_outside(workspace, tmp_path):
    """The attacks where the process itself matters (a blocking open, a full disk) as a user
    runs them: exit code and stderr of a real `rnnmusic` process."""
    chosen = [a for a in ATTACKS_HERE if a.group in (READS, DISK) and a.stdin is None]
    failed = {}
    for attack in chosen:
        if attack.disk and can_mount():
            continue
        with contextlib.ExitStack() as stack:
            if attack.disk:
                full = attack.fill_when is None
                out = stack.enter_context(small_disk(tmp_path / attack.name, full=full))
                if attack.fill_when:
                    fill_when_it_appears(out / attack.fill_when, out)
            else:
                out = workspace.scratch(attack.name)
            done = run_cli(*attack.argv(workspace, out), timeout=120)
            result = Result(done.returncode, done.stdout, done.stderr, 0.0, 0)
            problems = judge(attack, out, result)
        if problems:
            failed[attack.name] = problems
    assert not failed, failed
    assert len(chosen) >= 20
