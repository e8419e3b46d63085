"""Writing files so that a failure leaves nothing behind: every file rnnmusic writes goes
through here.

A file is written to a hidden temporary name in its own folder, flushed to disk, then renamed
over its target: the target is whole (new or old), never half-written or empty. A full disk,
a read-only file system or a path that cannot be a file (/proc/x.txt) becomes one sentence
naming the file; the temporary file is removed. Appends (metrics.jsonl, samples.txt) are cut
back to where they started when they fail, so no line is half-written and no empty file is
left."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from rnnmusic.errors import CodecError, RnnMusicError

TMP_MARK = ".tmp-"  # temporary folders are .NAME.tmp-PID-TOKEN (a killed run's are removed)
_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "its folder does not exist",
    errno.ENOTDIR: "a part of its path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.EFBIG: "the file would be larger than the system allows",
    errno.ENAMETOOLONG: "its name is too long",
}
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO)


class WriteError(RnnMusicError):
    """A file could not be written; `target` is the file, `errno` the system's reason."""

    def __init__(self, target: str | Path, why: str, code: int | None = None):
        self.target = Path(target)
        self.why = why
        self.errno = code
        super().__init__(f"could not write {target} ({why})")

    @property
    def disk_full(self) -> bool:
        return self.errno in (errno.ENOSPC, errno.EDQUOT)


def reason(exc: OSError) -> str:
    """An OSError in a few words a user can act on."""
    return _REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".")


def temporary_folder(path: Path) -> Path:
    """A hidden folder beside `path`; the file is written inside it under its own name, since
    writers read formats (and codecs sample numbers) from the name."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(3)}")


def make_folder(folder: str | Path) -> None:
    """The folder and its parents, or a WriteError naming it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise WriteError(folder, "a file of that name is in the way", errno.EEXIST) from None
    except OSError as exc:
        raise WriteError(folder, reason(exc), exc.errno) from None


def _disk_error(exc: BaseException) -> OSError | None:
    """The OSError a writer library wrapped in its own exception, if a disk problem caused it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _retarget(exc: RnnMusicError, tmp: Path, path: Path) -> None:
    """Messages of codec writers name the file they were given: the temporary one."""
    exc.args = tuple(a.replace(str(tmp), str(path)) if isinstance(a, str) else a for a in exc.args)
    if isinstance(exc, CodecError):
        exc.path = str(path) if exc.path == str(tmp) else exc.path
        exc.reason = exc.reason.replace(str(tmp), str(path))


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, make_parent: bool = True) -> Iterator[Path]:
    """A temporary path to write `path` through (for libraries that write to a path: mido,
    PyGuitarPro, matplotlib); on leaving the block it is synced and renamed over `path`.

    Any failure removes the temporary file and leaves `path` as it was; disk failures become
    a WriteError naming `path`."""
    path = Path(path)
    if make_parent:
        make_folder(path.parent if str(path.parent) else ".")
    if path.is_dir():
        raise WriteError(path, "it is a folder", errno.EISDIR)
    folder = temporary_folder(path)
    tmp = folder / path.name
    try:
        folder.mkdir()
        yield tmp
        if not tmp.exists():
            raise WriteError(path, "the writer produced no file")
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # a full disk may show only now (delayed allocation, network disks)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        folder.rmdir()
        _sync_folder(path.parent)
    except OSError as exc:
        _remove(folder)
        why = reason(exc)
        if exc.errno == errno.ENOENT and path.parent.is_dir():
            why = "its folder takes no new files"  # /proc, /sys
        raise WriteError(path, why, exc.errno) from None
    except BaseException as exc:
        _remove(folder)
        disk = _disk_error(exc)
        if disk is not None:
            raise WriteError(path, reason(disk), disk.errno) from None
        if isinstance(exc, RnnMusicError):
            _retarget(exc, tmp, path)
        raise


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def write_bytes(path: str | Path, data: bytes, *, make_parent: bool = True) -> None:
    with atomic_path(path, make_parent=make_parent) as tmp, open(tmp, "xb") as file:
        file.write(data)


def write_text(path: str | Path, text: str, *, make_parent: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), make_parent=make_parent)


def append_text(path: str | Path, text: str) -> None:
    """Add `text` at the end of `path` (created if missing). On failure the file is cut back
    to its old length (removed if this call created it) and a WriteError names it."""
    path = Path(path)
    data = text.encode("utf-8")
    existed = path.exists()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise WriteError(path, reason(exc), exc.errno) from None
    start = os.fstat(fd).st_size
    try:
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
    except OSError as exc:
        with contextlib.suppress(OSError):
            if not existed:
                path.unlink()
            else:
                os.ftruncate(fd, start)
        raise WriteError(path, reason(exc), exc.errno) from None
    finally:
        os.close(fd)
