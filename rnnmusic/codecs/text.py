"""Plain UTF-8 text, char-rnn's original use (Shakespeare, Linux source): pieces are paragraphs."""

from __future__ import annotations

import re
from pathlib import Path

from rnnmusic.bounded_read import read_bytes
from rnnmusic.codecs.base import Codec, Piece, Source
from rnnmusic.errors import CodecError

_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


MAX_TEXT_BYTES = 256 * 1024 * 1024  # one file is read whole; split bigger ones
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_text_file(path: str | Path, codec_name: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """UTF-8 (or UTF-16 with a byte-order mark, as Windows Notepad saves) text with normalised
    newlines; binary files and other encodings are a CodecError."""
    data = read_bytes(path, max_bytes, f"text for the {codec_name} codec")
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text[:32768]:
            raise CodecError(path, "starts like UTF-16 text but is binary or damaged")
    elif b"\x00" in data[:65536]:
        if _looks_like_utf16(data[:4096]):
            raise CodecError(
                path, "is UTF-16 text without a byte-order mark; convert it to UTF-8 first"
            )
        raise CodecError(path, f"is a binary file, not text the {codec_name} codec can read")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CodecError(
                path,
                f"is not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8 first",
            ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_utf16(head: bytes) -> bool:
    """Mostly ASCII text in UTF-16: every other byte is zero, the bytes between are not."""
    for zeros, chars in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if len(zeros) >= 8 and zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) == 0:
            return True
    return False


def python_stdlib_files() -> list[Path]:
    """The built-in corpus `python-stdlib`: the standard library's top-level modules."""
    import sysconfig

    lib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in lib.glob("*.py") if p.is_file())


PYTHON_STDLIB = Source(
    name="python-stdlib",
    description="the Python standard library's top-level modules: source code for the text "
    "codec, as char-rnn learned C from the Linux kernel",
    licence="PSF License",
    codecs=("text",),
    files=python_stdlib_files,
    raw_files=python_stdlib_files,
)


class TextCodec(Codec):
    name = "text"
    description = "any UTF-8 text; pieces are paragraphs separated by a blank line"
    extensions = (".txt", ".md", ".py", ".c", ".h", ".tex", ".rst")
    writes = (".txt",)
    separator = "\n\n"
    default_corpus = "python-stdlib"
    parallel_encode = False  # reading is cheaper than shipping the text between processes

    @classmethod
    def sources(cls) -> tuple[Source, ...]:
        return (PYTHON_STDLIB,)

    def encode_file(self, path: str | Path) -> list[str]:
        text = read_text_file(path, self.name)
        pieces = [p.strip("\n") for p in _BLANK_LINES.split(text)]
        pieces = [p for p in pieces if p.strip()]
        if not pieces:
            raise CodecError(path, "holds no text")
        return pieces

    def decode(self, text: str) -> Piece:
        return Piece(text=text.strip("\n"))

    def write(self, piece: Piece, path: str | Path) -> None:
        self.check_output(path)
        Path(path).write_text(piece.text + "\n", encoding="utf-8")
