"""The run folder: which corpus a run trains on, one process per folder, Ctrl-C handling."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
from datetime import datetime
from pathlib import Path

from rnnmusic.atomic_write import WriteError, reason
from rnnmusic.bounded_read import read_json
from rnnmusic.codecs import Codec
from rnnmusic.corpus import Corpus, build_corpus, is_corpus_dir
from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.paths import cache_dir

MAX_RUN_JSON = 1024 * 1024


def default_run_dir(codec_name: str) -> Path:
    return Path("runs") / f"{codec_name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def prepare_corpus(
    source: str | None, codec: Codec, run_dir: Path, jobs: int | None, progress: bool
) -> Corpus:
    """A built corpus folder is used as is; a built-in corpus is built once into the cache; any
    other source (folder or file) is built into the run folder."""
    if source is not None and is_corpus_dir(source):
        corpus = Corpus.load(source)
        # compared as codecs: an option added since the corpus was built takes its default
        if corpus.codec_name != codec.name or corpus.codec != codec:
            raise RnnMusicError(
                f"corpus {source} was built with codec {corpus.codec_name} "
                f"{corpus.meta['codec_options']}, not {codec.name} {codec.options()}; "
                "build it again or train with its codec"
            )
        return corpus
    if source is None:
        if codec.default_corpus is None:
            raise RnnMusicError(
                f"codec {codec.name} has no built-in corpus; give one with --corpus"
            )
        return cached_builtin_corpus(codec.default_corpus, codec, jobs, progress)
    if not Path(source).exists():
        from rnnmusic.sources import get_source

        get_source(source)  # a path that does not exist is named as such, before any work
        return cached_builtin_corpus(source, codec, jobs, progress)
    print(f"building corpus from {source} into {run_dir / 'corpus'}")
    corpus = build_corpus(source, codec, run_dir / "corpus", jobs=jobs, progress=progress)
    print(indented_report(corpus))
    return corpus


def cached_builtin_corpus(name: str, codec: Codec, jobs: int | None, progress: bool) -> Corpus:
    options = json.dumps(codec.options(), sort_keys=True)
    digest = hashlib.blake2b(options.encode(), digest_size=6).hexdigest()
    key = f"{name}--{codec.name}--{digest}"
    target = cache_dir() / "corpora" / key
    if is_corpus_dir(target):
        with contextlib.suppress(RnnMusicError):
            return Corpus.load(target)
    print(
        f"building the built-in corpus {name!r} for the {codec.name} codec (once; cached in {target})"
    )
    tmp = target.with_name(f"{key}.tmp-{os.getpid()}")
    corpus = build_corpus(name, codec, tmp, jobs=jobs, progress=progress)
    print(indented_report(corpus))
    try:
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except OSError:
        return corpus  # another process got there first; this copy is just as good
    return Corpus.load(target)


def indented_report(corpus: Corpus) -> str:
    return "  " + corpus.report.summary().replace("\n", "\n  ")


def run_corpus_path(run_dir: Path) -> Path:
    """The corpus a run trained on, as its run.json records it."""
    path = run_dir / "run.json"
    try:
        record = read_json(path, MAX_RUN_JSON, "a run record")
    except CodecError as exc:
        raise RnnMusicError(f"{exc}; it is not a run.json that `train` wrote") from None
    corpus = record.get("corpus") if isinstance(record, dict) else None
    if not isinstance(corpus, str) or not corpus:
        raise RnnMusicError(f"{path} names no corpus; it is not a run.json that `train` wrote")
    return Path(corpus)


def remove_empty_run_dir(run_dir: Path) -> None:
    with contextlib.suppress(OSError):
        run_dir.rmdir()


def forget_unstarted_run(run_dir: Path, created: bool) -> None:
    """A run that failed before its first checkpoint leaves nothing to resume: the folder goes
    if this run made it, else the files this run put there (never the user's own)."""
    if created:
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    for name in (".lock", "run.json", "metrics.jsonl", "samples.jsonl", "samples.txt"):
        with contextlib.suppress(OSError):
            (run_dir / name).unlink()


def stopped_by_write(error: Exception, run_dir: Path) -> str:
    """The sentence for a training run stopped by a file it could not write."""
    if not (run_dir / "last.safetensors").exists():
        return f"{error}; training stopped before its first checkpoint"
    intact = "" if "intact" in str(error) else " and its last checkpoint is intact"
    return (
        f"{error}; training stopped{intact}: free some space and continue with "
        f"`rnnmusic train --resume {run_dir}`"
    )


class RunLock:
    """One training process per run folder: a second one is refused instead of interleaving."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / ".lock"
        existed = self.path.exists()
        try:  # unbuffered: a write the disk refuses fails here, not again when closing
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise WriteError(self.path, reason(exc), exc.errno) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode("ascii", "replace").strip()
            os.close(self.fd)
            raise RnnMusicError(
                f"{run_dir} is in use by another training run (pid {holder or '?'}); "
                "wait for it to finish or choose another --out"
            ) from None
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, str(os.getpid()).encode("ascii"), 0)
        except OSError as exc:  # a full disk: no lock file is left behind
            os.close(self.fd)
            if not existed:
                self.path.unlink(missing_ok=True)
            raise WriteError(self.path, reason(exc), exc.errno) from None
        for stale in run_dir.glob(".*.tmp-*"):  # half-written by a run that was killed
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(self.fd)


class StopFlag:
    """Ctrl-C asks the loop to save and stop; a second Ctrl-C stops at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        with contextlib.suppress(ValueError):  # not the main thread: no handler
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
