"""Encoding input files into codec text, in worker processes, with a time limit per file.

Why a module of its own: a corpus build reads files nobody vetted (a scrape, a download), and
one hostile file must neither hang the build nor stop it. This is the code that makes that so:
the worker pool, the per-file SIGALRM limit and the turning of every failure into a one-line
reason for the build report. `corpus.py` only stores what it yields.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from rnnmusic.codecs import Codec
from rnnmusic.errors import CodecError

FILE_SECONDS = 120  # one file may take this long to encode; a hostile file must not hang a build
_worker_codec: Codec | None = None


def _init_worker(codec: Codec) -> None:
    global _worker_codec
    _worker_codec = codec


class _FileTimeout(BaseException):
    """A BaseException, so readers that catch every Exception (one bad tune must not stop a
    file) cannot swallow it and read on past the limit."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """SIGALRM-based limit; only the main thread of a process can take signals, elsewhere none."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _FileTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    # and again every tenth of the limit, so a lost alarm (a library's bare `except:`; CI once
    # saw a 0.5 s limit end after 17 s, cause not found) does not let the reader run on
    signal.setitimer(signal.ITIMER_REAL, seconds, max(0.05, seconds / 10))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _encode_one(path: Path) -> tuple[Path, list[str] | None, str | None]:
    assert _worker_codec is not None
    try:
        with _time_limit(FILE_SECONDS):
            return path, _worker_codec.encode_file(path), None
    except CodecError as exc:
        return path, None, exc.reason
    except _FileTimeout:
        return path, None, f"took longer than {FILE_SECONDS} s to read"
    except MemoryError:
        return path, None, "too large to encode in memory"
    except RecursionError:
        return path, None, "nested too deeply to read"
    except Exception as exc:  # a library choking on a hostile file must not stop the batch
        said = " ".join(str(exc).split())[:200]  # one line in the report
        return path, None, f"unreadable ({type(exc).__name__}: {said})"


def encode_files(
    files: list[Path], codec: Codec, jobs: int | None = None, progress: bool = True
) -> Iterator[tuple[Path, list[str] | None, str | None]]:
    """(path, pieces, None) or (path, None, reason) per file, in input order whatever `jobs` is."""
    if jobs is None and not codec.parallel_encode:
        jobs = 1
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    bar = tqdm(total=len(files), desc="encoding", unit="file", disable=not progress, leave=False)
    try:
        if jobs == 1:
            _init_worker(codec)
            for path in files:
                yield _encode_one(path)
                bar.update()
            return
        ctx = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
        chunksize = max(1, min(16, len(files) // (jobs * 8)))
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(codec,)) as pool:
            for result in pool.imap(_encode_one, files, chunksize=chunksize):
                yield result
                bar.update()
    finally:
        bar.close()
