"""Reading a file a user named, safely: only regular files, never more than a cap.

A named pipe blocks `open()` forever, /dev/zero never ends, a symlink named song.mid may point at
either, and a "file" in /proc reports size 0 whatever it holds. Every reader in rnnmusic opens
its input here, so each of these is one sentence naming the file instead of a hang or a
memory exhaustion."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO

from rnnmusic.errors import CodecError

MB = 1_000_000


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def size_in_words(size: int) -> str:
    if size >= MB:
        return f"{size / MB:,.1f} MB"
    return f"{size / 1000:,.0f} KB" if size >= 1000 else f"{size} bytes"


def too_large(size: int, max_bytes: int, what: str) -> str:
    return (
        f"is {size_in_words(size)}, larger than the {size_in_words(max_bytes)} rnnmusic "
        f"reads as {what}"
    )


def read_bytes(path: str | Path, max_bytes: int, what: str = "a file") -> bytes:
    """The whole file, or a CodecError(path, reason) when it is missing, not a regular file
    (folders, named pipes, devices, sockets: followed through symlinks) or over `max_bytes`.

    The file is opened without blocking (a named pipe would wait for a writer) and checked on
    the open descriptor, so what is checked is what is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise CodecError(path, "cannot be read (it does not exist)") from None
    except IsADirectoryError:
        raise CodecError(path, f"is a folder, not {what}") from None
    except OSError as exc:
        raise CodecError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise CodecError(path, f"is {kind}, not {what}")
        if info.st_size > max_bytes:
            raise CodecError(path, too_large(info.st_size, max_bytes, what))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as file:
            data = _read_up_to(file, max_bytes + 1)  # /proc files report size 0: count as read
    except OSError as exc:
        raise CodecError(path, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise CodecError(
            path, f"holds more than the {size_in_words(max_bytes)} rnnmusic reads as {what}"
        )
    return data


def _read_up_to(file: BinaryIO, limit: int) -> bytes:
    chunks, total = [], 0
    while total < limit:
        chunk = file.read(min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_stdin(max_bytes: int, what: str = "text") -> bytes:
    """Standard input, at most `max_bytes` (a pipe from /dev/zero must not fill memory)."""
    data = _read_up_to(sys.stdin.buffer, max_bytes + 1)
    if len(data) > max_bytes:
        raise CodecError(
            "standard input",
            f"holds more than the {size_in_words(max_bytes)} rnnmusic reads as {what}",
        )
    return data


def read_utf8(path: str | Path, max_bytes: int, what: str = "a text file") -> str:
    """A UTF-8 text file ('-': standard input; a byte-order mark is dropped), with newlines
    as '\\n'."""
    data = read_stdin(max_bytes, what) if str(path) == "-" else read_bytes(path, max_bytes, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodecError(
            path, f"is not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8 first"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_json(text: str | bytes) -> Any:
    """json.loads for text from outside: ValueError for malformed JSON and for nesting bombs
    (100,000 nested brackets make the parser raise RecursionError, caught here)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("it nests too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None


def read_json(path: str | Path, max_bytes: int, what: str = "a JSON file") -> Any:
    """A JSON file from outside: CodecError for anything unreadable, malformed or too deep."""
    text = read_utf8(path, max_bytes, what)
    try:
        return parse_json(text)
    except ValueError as exc:
        raise CodecError(path, f"is not valid JSON ({exc})") from None
