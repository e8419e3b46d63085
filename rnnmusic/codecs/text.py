"""Plain UTF-8 text, the seed's original use (Shakespeare, Linux source): pieces are paragraphs."""

from __future__ import annotations

import re
from pathlib import Path

from rnnmusic.codecs.base import Codec, Piece
from rnnmusic.errors import CodecError

_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


def read_text_file(path: str | Path, codec_name: str) -> str:
    """UTF-8 text with normalised newlines; binary files and other encodings are a CodecError."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise CodecError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise CodecError(path, f"cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in data[:65536]:
        raise CodecError(path, f"is a binary file, not text the {codec_name} codec can read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodecError(
            path, f"is not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8 first"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextCodec(Codec):
    name = "text"
    description = "any UTF-8 text; pieces are paragraphs separated by a blank line"
    extensions = (".txt", ".md", ".py", ".c", ".h", ".tex", ".rst")
    writes = (".txt",)
    separator = "\n\n"
    default_corpus = "python-stdlib"

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
