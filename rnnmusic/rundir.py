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

from rnnmusic.codecs import Codec
from rnnmusic.corpus import BuildReport, Corpus, build_corpus, is_corpus_dir
from rnnmusic.errors import RnnMusicError
from rnnmusic.paths import cache_dir


def default_run_dir(codec_name: str) -> Path:
    return Path("runs") / f"{codec_name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def prepare_corpus(
    source: str | None, codec: Codec, run_dir: Path, jobs: int | None, progress: bool
) -> Corpus:
    """A built corpus folder is used as is; a built-in corpus is built once into the cache; any
    other source (folder or file) is built into the run folder."""
    if source is not None and is_corpus_dir(source):
        corpus = Corpus.load(source)
        if corpus.meta["codec"] != codec.name or corpus.meta["codec_options"] != codec.options():
            raise RnnMusicError(
                f"corpus {source} was built with codec {corpus.meta['codec']} "
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
    return "  " + BuildReport(**corpus.meta["report"]).summary().replace("\n", "\n  ")


class RunLock:
    """One training process per run folder: a second one is refused instead of interleaving."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / ".lock"
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RnnMusicError(
                f"{run_dir} is in use by another training run (pid {holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        for stale in run_dir.glob(".*.tmp-*"):  # half-written by a run that was killed
            stale.unlink(missing_ok=True)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()


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
