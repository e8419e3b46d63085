"""What every reader owes a file it is given, checked the same way for hostile files
(test_hostile.py) and fuzzed ones (test_fuzz.py): pieces, or a CodecError naming the file with
a one-sentence reason; within a few seconds of CPU and without a large allocation."""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import tracemalloc
from pathlib import Path

from hostile_files import Reader

from rnnmusic.codecs import get_codec
from rnnmusic.errors import CodecError

# One hostile file may take this much CPU to read or refuse. CPU time, not the clock, and with
# margin: CPU time too grows on a busy machine (shared caches and cores). The slowest case
# (72 KB staff lines) took 4.1 s at load 10 on 2 cores and 6.4 s on another busy machine;
# a reader that loops or goes quadratic takes minutes, so 15 s still catches it.
CPU_SECONDS = 15.0
HANG_SECONDS = 60.0  # … and is stopped (the test fails) after this much CPU (5× on the clock)
PEAK_BYTES = 256 * 1024 * 1024  # files that claim gigabytes must not make the reader allocate them


class _Hang(BaseException):
    """A BaseException, so that a reader catching every Exception cannot swallow it."""


@contextlib.contextmanager
def hang_guard(seconds: float):
    """Stop a reader that loops: after `seconds` of this process's CPU time (SIGPROF), so that a
    loaded machine, where a reader gets a fraction of a core, does not count as a hang; and
    after five times as long on the clock, for a reader stuck waiting."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; the CPU-time assertion still applies
        return

    limits = {  # signal: (timer, seconds, what the seconds count)
        signal.SIGPROF: (signal.ITIMER_PROF, seconds, "of CPU"),
        signal.SIGALRM: (signal.ITIMER_REAL, 5 * seconds, "on the clock"),
    }

    def expire(signum, frame):
        _, limit, counted = limits[signum]
        raise _Hang(f"still reading after {limit:.0f} s {counted}")

    previous = {sig: signal.signal(sig, expire) for sig in limits}
    for timer, limit, _ in limits.values():
        signal.setitimer(timer, limit)
    try:
        yield
    finally:
        for timer, _, _ in limits.values():
            signal.setitimer(timer, 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


@contextlib.contextmanager
def peak_memory(fallback: bool):
    """Yields a list that receives the bytes the block added at its peak. Linux resets the
    resident-set high-water mark when 5 is written to /proc/self/clear_refs: that counts
    every allocation (NumPy, C libraries) at no cost. Elsewhere tracemalloc, which slows
    Python code down several times, measures the files marked `memory` only."""
    peak: list[int] = []
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kb("VmRSS")
    except OSError:
        before = None
    if before is not None:
        yield peak
        peak.append(max(0, _status_kb("VmHWM") - before) * 1024)
    elif fallback:
        tracemalloc.start()
        try:
            yield peak
            peak.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    else:
        yield peak
        peak.append(0)


def read_bounded(reader: Reader, path: Path, measure_memory: bool):
    """(result or CodecError, CPU seconds, peak bytes added). Any other exception propagates:
    that is the crash the test exists to find."""
    started = time.process_time()
    try:
        with peak_memory(fallback=measure_memory) as peak, hang_guard(HANG_SECONDS):
            try:
                outcome = reader.read(path)
            except CodecError as error:
                outcome = error
    except _Hang as hang:  # now an ordinary failure, which hypothesis shrinks and reports
        raise AssertionError(str(hang)) from None
    return outcome, time.process_time() - started, peak[0]


def assert_one_sentence_naming(error: CodecError, path: Path) -> None:
    assert error.path == str(path), (error.path, path)
    assert str(error).startswith(str(path)), str(error)
    reason = error.reason
    assert reason and "\n" not in reason and len(reason) <= 300, reason
    assert "Traceback" not in reason and "object at 0x" not in reason, reason


def assert_pieces(reader: Reader, result) -> None:
    if reader.codec is None:
        return  # the MIDI check of render and plot returns the parsed file
    separator = get_codec(reader.codec).separator
    assert isinstance(result, list) and result, result
    for piece in result:
        assert isinstance(piece, str) and piece.strip(), piece
        assert separator not in piece


def check_reader(reader: Reader, path: Path, measure_memory: bool = False):
    """The result or CodecError, after asserting the contract above."""
    outcome, seconds, peak = read_bounded(reader, path, measure_memory)
    if isinstance(outcome, CodecError):
        assert_one_sentence_naming(outcome, path)
    else:
        assert_pieces(reader, outcome)
    assert seconds < CPU_SECONDS, f"took {seconds:.1f} s of CPU"
    assert peak < PEAK_BYTES, f"allocated {peak / 1e6:.0f} MB at the peak"
    return outcome
